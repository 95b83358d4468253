using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

public sealed class VmsApiTests : IDisposable
{
    private readonly VirtApiFactory _factory = new();
    private readonly HttpClient _client;

    public VmsApiTests() => _client = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private async Task<JsonElement> RefusedAsync(object request, HttpStatusCode status, string code) =>
        await (await _client.PostAsJsonAsync("/api/v1/vms", request)).ReadProblemAsync(status, code);

    [Fact]
    public async Task CreateVm_Returns201WithLocation_Defaults_AndChargesTheLeastLoadedHost()
    {
        var hello = await _client.ImageIdAsync("hello");
        var response = await _client.PostAsJsonAsync("/api/v1/vms", new { name = "vm-1", imageId = hello });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var vm = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/vms/{vm.GetProperty("id").GetGuid()}", response.Headers.Location?.OriginalString);
        Assert.Equal("created", vm.GetProperty("state").GetString());
        Assert.Equal(["boot"], vm.GetProperty("allowedActions").EnumerateArray().Select(a => a.GetString()!).ToArray());
        Assert.Equal(1, vm.GetProperty("vcpus").GetInt32());
        Assert.Equal(64, vm.GetProperty("memoryMiB").GetInt32());
        Assert.Equal("native", vm.GetProperty("cpu").GetProperty("mode").GetString());
        Assert.Equal("riscv", vm.GetProperty("cpu").GetProperty("profile").GetString());
        Assert.Equal("direct", vm.GetProperty("memory").GetProperty("mode").GetString());

        // host-a has the most memory free, so the VM lands there and is charged to it.
        var hosts = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        var hostA = hosts.EnumerateArray().Single(h => h.GetProperty("name").GetString() == "host-a");
        Assert.Equal(hostA.GetProperty("id").GetGuid(), vm.GetProperty("hostId").GetGuid());
        Assert.Equal(64, hostA.GetProperty("usage").GetProperty("memoryUsedMiB").GetInt64());
        Assert.Equal(1, hostA.GetProperty("usage").GetProperty("vms").GetInt32());

        var deleteHost = await _client.DeleteAsync($"/api/v1/hosts/{hostA.GetProperty("id").GetGuid()}");
        await deleteHost.ReadProblemAsync(HttpStatusCode.Conflict, "host-in-use");
    }

    [Theory]
    [InlineData(0, "vcpus")]
    [InlineData(9, "vcpus")]
    public async Task CreateVm_WithVcpusOutOfRange_Is400(int vcpus, string field)
    {
        var problem = await RefusedAsync(new { name = "vm-x", imageId = await _client.ImageIdAsync("hello"), vcpus }, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal([$"must be between 1 and 8, was {vcpus}"], problem.ErrorsFor(field));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4097)]
    public async Task CreateVm_WithMemoryOutOfRange_Is400(int memoryMiB)
    {
        var problem = await RefusedAsync(new { name = "vm-x", imageId = await _client.ImageIdAsync("hello"), memoryMiB }, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal([$"must be between 1 and 4096, was {memoryMiB}"], problem.ErrorsFor("memoryMiB"));
    }

    [Fact]
    public async Task CreateVm_WithMemoryTooSmallForTheImage_Is400()
    {
        // 2 MiB of bss past the start of RAM needs at least 3 MiB.
        var image = await _client.CreateAsmImageAsync("big-bss", ".globl _start\n_start: j _start\n.bss\n.zero 0x200000\n");
        var problem = await RefusedAsync(new { name = "vm-x", imageId = image, memoryMiB = 2 }, HttpStatusCode.BadRequest, "validation-failed");
        Assert.StartsWith("must be at least 3", problem.ErrorsFor("memoryMiB")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVm_WithUnknownImageOrHost_Is400NamingTheField()
    {
        var problem = await RefusedAsync(new { name = "vm-x", imageId = Guid.NewGuid() }, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(problem.ErrorsFor("imageId"));
        problem = await RefusedAsync(new { name = "vm-x", imageId = await _client.ImageIdAsync("hello"), hostId = Guid.NewGuid() }, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(problem.ErrorsFor("hostId"));
        problem = await RefusedAsync(new { name = "vm-x" }, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["is required"], problem.ErrorsFor("imageId"));
    }

    [Fact]
    public async Task CreateVm_OnAHostWithoutRoom_Is409WithFreeMemory()
    {
        var host = await (await _client.PostAsJsonAsync("/api/v1/hosts", new { name = "tiny", physicalCpus = 1, memoryMiB = 100, hypervisorType = "hosted" })).Content.ReadFromJsonAsync<JsonElement>();
        var hello = await _client.ImageIdAsync("hello");
        await _client.CreateVmAsync(new { name = "vm-1", imageId = hello, memoryMiB = 64, hostId = host.GetProperty("id").GetGuid() });
        var problem = await RefusedAsync(new { name = "vm-2", imageId = hello, memoryMiB = 64, hostId = host.GetProperty("id").GetGuid() }, HttpStatusCode.Conflict, "host-capacity");
        Assert.Equal(36, problem.GetProperty("memoryFreeMiB").GetInt64());
    }

    [Fact]
    public async Task CreateVm_WithAnInvalidModeCombination_Is422ListingTheValidOnes()
    {
        var problem = await RefusedAsync(
            new { name = "vm-x", imageId = await _client.ImageIdAsync("hello"), cpu = new { mode = "native" }, memory = new { mode = "shadow" } },
            HttpStatusCode.UnprocessableEntity,
            "invalid-mode-combination");
        Assert.Contains(problem.GetProperty("validCombinations").EnumerateArray(), c => c.GetProperty("cpuMode").GetString() == "trap-and-emulate" && c.GetProperty("memoryMode").GetString() == "shadow");
    }

    [Fact]
    public async Task CreateVm_WithAModeNotBuiltYet_Is422ModeUnavailable()
    {
        var problem = await RefusedAsync(
            new { name = "vm-x", imageId = await _client.ImageIdAsync("hello"), cpu = new { mode = "hardware-assisted" }, memory = new { mode = "nested" } },
            HttpStatusCode.UnprocessableEntity,
            "mode-unavailable");
        Assert.Contains("cpu.mode hardware-assisted", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVm_WithADuplicateName_Is409AndNothingIsCharged()
    {
        var hello = await _client.ImageIdAsync("hello");
        await _client.CreateVmAsync(new { name = "twin", imageId = hello });
        await RefusedAsync(new { name = "twin", imageId = hello }, HttpStatusCode.Conflict, "vm-name-taken");
        var hosts = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        Assert.Equal(64, hosts.EnumerateArray().Sum(h => h.GetProperty("usage").GetProperty("memoryUsedMiB").GetInt64()));
    }

    [Fact]
    public async Task ListVms_FiltersByStateAndHost_AndPages()
    {
        var hello = await _client.ImageIdAsync("hello");
        var hosts = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        var hostB = hosts.EnumerateArray().Single(h => h.GetProperty("name").GetString() == "host-b").GetProperty("id").GetGuid();
        for (var i = 0; i < 5; i++)
        {
            await _client.CreateVmAsync(new { name = $"vm-{i}", imageId = hello, hostId = i < 2 ? hostB : (Guid?)null });
        }
        var page = await _client.GetFromJsonAsync<JsonElement>("/api/v1/vms?offset=1&limit=2");
        Assert.Equal(5, page.GetProperty("total").GetInt32());
        Assert.Equal(["vm-1", "vm-2"], page.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToArray());
        var onB = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms?hostId={hostB}");
        Assert.Equal(2, onB.GetProperty("total").GetInt32());
        var created = await _client.GetFromJsonAsync<JsonElement>("/api/v1/vms?state=created");
        Assert.Equal(5, created.GetProperty("total").GetInt32());
        var bad = await _client.GetAsync("/api/v1/vms?state=sleeping&limit=0");
        var problem = await bad.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(problem.ErrorsFor("state"));
        Assert.Single(problem.ErrorsFor("limit"));
    }

    [Fact]
    public async Task PatchVm_ChangesTheDefinitionAndTheHostCharge()
    {
        var vm = await _client.CreateVmAsync(new { name = "vm-1", imageId = await _client.ImageIdAsync("hello") });
        var id = vm.GetProperty("id").GetGuid();
        var response = await _client.PatchAsJsonAsync($"/api/v1/vms/{id}", new { name = "vm-renamed", vcpus = 2, memoryMiB = 128, instructionBudget = 5000 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var patched = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("vm-renamed", patched.GetProperty("name").GetString());
        Assert.Equal(2, patched.GetProperty("vcpus").GetInt32());
        Assert.Equal(5000, patched.GetProperty("instructionBudget").GetInt64());
        var host = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{vm.GetProperty("hostId").GetGuid()}");
        Assert.Equal(128, host.GetProperty("usage").GetProperty("memoryUsedMiB").GetInt64());
    }

    [Fact]
    public async Task DeleteVm_FreesItsHostMemory()
    {
        var vm = await _client.CreateVmAsync(new { name = "vm-1", imageId = await _client.ImageIdAsync("hello"), memoryMiB = 256 });
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/vms/{vm.GetProperty("id").GetGuid()}")).StatusCode);
        var host = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{vm.GetProperty("hostId").GetGuid()}");
        Assert.Equal(0, host.GetProperty("usage").GetProperty("memoryUsedMiB").GetInt64());
        Assert.Equal(0, host.GetProperty("usage").GetProperty("vms").GetInt32());
        var gone = await _client.GetAsync($"/api/v1/vms/{vm.GetProperty("id").GetGuid()}");
        await gone.ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
