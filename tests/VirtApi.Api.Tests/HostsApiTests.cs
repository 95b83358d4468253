using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VirtApi.Hypervisor.Devices;

namespace VirtApi.Api.Tests;

public sealed class HostsApiTests : IDisposable
{
    private readonly VirtApiFactory _factory = new();
    private readonly HttpClient _client;

    public HostsApiTests() => _client = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private static object NewHost(string name = "host-c") => new
    {
        name,
        physicalCpus = 4,
        memoryMiB = 8192,
        hypervisorType = "hosted",
        devices = new[] { new { kind = "block", name = "sdb" }, new { kind = "net", name = "eth1" } },
    };

    [Fact]
    public async Task DefaultHosts_AreSeededFromAppsettings()
    {
        var hosts = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        var names = hosts.EnumerateArray().Select(h => h.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["host-a", "host-b"], names);
        var hostA = hosts[0];
        Assert.Equal("bare-metal", hostA.GetProperty("hypervisorType").GetString());
        Assert.True(hostA.GetProperty("fromConfiguration").GetBoolean());
        Assert.Equal(hostA.GetProperty("memoryMiB").GetInt64(), hostA.GetProperty("usage").GetProperty("memoryFreeMiB").GetInt64());
        Assert.Equal(0, hostA.GetProperty("usage").GetProperty("vms").GetInt32());
        Assert.NotEmpty(hostA.GetProperty("devices").EnumerateArray());
    }

    [Fact]
    public async Task CreateHost_Returns201WithLocation_AndTheHostReadsBack()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", NewHost());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/hosts/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("hosted", created.GetProperty("hypervisorType").GetString());
        Assert.False(created.GetProperty("fromConfiguration").GetBoolean());

        var read = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{id}");
        Assert.Equal("host-c", read.GetProperty("name").GetString());
        Assert.Equal(4, read.GetProperty("physicalCpus").GetInt32());
        Assert.Equal(8192, read.GetProperty("memoryMiB").GetInt64());
        var devices = read.GetProperty("devices").EnumerateArray().Select(d => (d.GetProperty("kind").GetString(), d.GetProperty("name").GetString())).ToArray();
        Assert.Equal([("net", "eth1"), ("block", "sdb")], devices);

        var list = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        Assert.Contains(list.EnumerateArray(), h => h.GetProperty("id").GetGuid() == id);
    }

    [Fact]
    public async Task DeleteHost_Returns204_ThenTheHostIsGone()
    {
        var created = await (await _client.PostAsJsonAsync("/api/v1/hosts", NewHost())).Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetGuid();

        var delete = await _client.DeleteAsync($"/api/v1/hosts/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        var read = await _client.GetAsync($"/api/v1/hosts/{id}");
        var problem = await read.ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Contains(id.ToString(), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var again = await _client.DeleteAsync($"/api/v1/hosts/{id}");
        await again.ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task CreateHost_WithMissingName_Is400NamingTheField()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new { physicalCpus = 2, memoryMiB = 1024, hypervisorType = "hosted" });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["is required"], problem.ErrorsFor("name"));
    }

    [Fact]
    public async Task CreateHost_WithDuplicateName_Is409AndNothingIsAdded()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", NewHost("host-a"));
        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict, "host-name-taken");
        Assert.Equal("host-a", problem.GetProperty("name").GetString());
        var hosts = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        Assert.Equal(2, hosts.GetArrayLength());
    }

    [Fact]
    public async Task CreateHost_WithNegativeCpus_Is400NamingTheRange()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-c", physicalCpus = -2, memoryMiB = 1024, hypervisorType = "hosted" });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["must be between 1 and 1024, was -2"], problem.ErrorsFor("physicalCpus"));
    }

    [Fact]
    public async Task CreateHost_WithUnknownHypervisorType_Is400ListingTheValidOnes()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-c", physicalCpus = 2, memoryMiB = 1024, hypervisorType = "kvm" });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["must be one of bare-metal, hosted"], problem.ErrorsFor("hypervisorType"));
    }

    [Fact]
    public async Task CreateHost_WithEnumAsNumber_Is400()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-c", physicalCpus = 2, memoryMiB = 1024, hypervisorType = 1 });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["must be one of bare-metal, hosted"], problem.ErrorsFor("hypervisorType"));
    }

    [Fact]
    public async Task CreateHost_WithUnknownDeviceKind_Is400NamingTheDevice()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name = "host-c",
            physicalCpus = 2,
            memoryMiB = 1024,
            hypervisorType = "hosted",
            devices = new[] { new { kind = "block", name = "sda" }, new { kind = "gpu", name = "gpu0" } },
        });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["must be one of console, block, net"], problem.ErrorsFor("devices[1].kind"));
    }

    [Fact]
    public async Task CreateHost_WithMisspeltField_Is400NamingIt()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-c", cpus = 2, memoryMiB = 1024, hypervisorType = "hosted" });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["is not a known field"], problem.ErrorsFor("cpus"));
    }

    [Fact]
    public async Task CreateHost_WithMalformedJson_Is400()
    {
        using var content = new StringContent("{\"name\": \"host-c\",", Encoding.UTF8, "application/json");
        var response = await _client.PostAsync("/api/v1/hosts", content);
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.StartsWith("is not well-formed JSON", problem.ErrorsFor("body")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateHost_ReportsEveryInvalidFieldAtOnce()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name = "Not_A_Label",
            physicalCpus = 0,
            memoryMiB = 1,
            devices = new[] { new { kind = "net", name = "eth0" }, new { kind = "net", name = "eth0" } },
        });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(problem.ErrorsFor("name"));
        Assert.Single(problem.ErrorsFor("physicalCpus"));
        Assert.Single(problem.ErrorsFor("memoryMiB"));
        Assert.Single(problem.ErrorsFor("hypervisorType"));
        Assert.Equal(["'eth0' is already used by another device of this host"], problem.ErrorsFor("devices[1].name"));
    }

    [Fact]
    public async Task HostBlockDevices_HaveASize_SeededOrGivenOrDefault64_AndNoHolderYet()
    {
        var hosts = await _client.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        var seeded = hosts.EnumerateArray().SelectMany(h => h.GetProperty("devices").EnumerateArray())
            .ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("sizeMiB").ValueKind == JsonValueKind.Null ? (int?)null : d.GetProperty("sizeMiB").GetInt32());
        Assert.Equal(256, seeded["nvme0"]);
        Assert.Equal(64, seeded["sda"]);
        Assert.Null(seeded["eth0"]);
        Assert.Null(seeded["ttys1"]);

        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name = "host-sizes",
            physicalCpus = 2,
            memoryMiB = 1024,
            hypervisorType = "hosted",
            devices = new object[] { new { kind = "block", name = "big", sizeMiB = 4096 }, new { kind = "block", name = "small" }, new { kind = "console", name = "tty0" } },
        });
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(
            [("big", "4096"), ("small", "64"), ("tty0", "null")],
            created.GetProperty("devices").EnumerateArray().Select(d => (d.GetProperty("name").GetString()!, d.GetProperty("sizeMiB").GetRawText())).ToArray());
        Assert.All(created.GetProperty("devices").EnumerateArray(), d => Assert.Equal(JsonValueKind.Null, d.GetProperty("assignedVmId").ValueKind));
    }

    [Fact]
    public async Task HostDeviceSize_OnANonBlockDeviceOrOutOfRange_Is400NamingTheDevice()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name = "host-c",
            physicalCpus = 2,
            memoryMiB = 1024,
            hypervisorType = "hosted",
            devices = new object[] { new { kind = "block", name = "sda", sizeMiB = 0 }, new { kind = "net", name = "eth0", sizeMiB = 64 }, new { kind = "block", name = "sdb", sizeMiB = 4097 } },
        });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["must be between 1 and 4096, was 0"], problem.ErrorsFor("devices[0].sizeMiB"));
        Assert.Equal(["only a block device has a size; this is a net device"], problem.ErrorsFor("devices[1].sizeMiB"));
        Assert.Equal(["must be between 1 and 4096, was 4097"], problem.ErrorsFor("devices[2].sizeMiB"));
    }

    [Fact]
    public async Task GetHost_WithUnknownId_Is404Problem()
    {
        var response = await _client.GetAsync($"/api/v1/hosts/{Guid.NewGuid()}");
        await response.ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
