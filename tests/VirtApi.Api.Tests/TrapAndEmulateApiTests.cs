using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

/// <summary>trap-and-emulate through the API: accepted with shadow memory, and its statistics described and reported.</summary>
public sealed class TrapAndEmulateApiTests : IClassFixture<VirtApiFactory>
{
    private readonly HttpClient _client;

    public TrapAndEmulateApiTests(VirtApiFactory factory) => _client = factory.CreateClient();

    private async Task<(JsonElement Vm, JsonElement Stats, string Console)> RunHelloAsync(string name, string mode, string memory, string profile = "riscv", string image = "hello", object[]? devices = null)
    {
        var vm = await _client.CreateVmAsync(new { name, imageId = await _client.ImageIdAsync(image), memoryMiB = 16, cpu = new { mode, profile }, memory = new { mode = memory }, devices });
        var id = vm.GetProperty("id").GetGuid();
        await _client.ActAsync(id, "boot");
        var end = await _client.WaitForStateAsync(id, "stopped", "crashed");
        Assert.Equal("stopped", end.GetProperty("state").GetString());
        var stats = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{id}/stats");
        return (vm, stats, await _client.RunConsoleAsync(id));
    }

    [Fact]
    public async Task TrapAndEmulateWithShadow_IsAccepted_AndRunsLikeNative()
    {
        var native = await RunHelloAsync("hello-native", "native", "direct");
        var emulated = await RunHelloAsync("hello-te", "trap-and-emulate", "shadow");
        Assert.Equal("trap-and-emulate", emulated.Vm.GetProperty("cpu").GetProperty("mode").GetString());
        Assert.Equal("shadow", emulated.Vm.GetProperty("memory").GetProperty("mode").GetString());
        Assert.Equal("Hello from VirtApi!\n", emulated.Console);
        Assert.Equal(native.Console, emulated.Console);
        Assert.Equal(native.Stats.GetProperty("instructionsRetired").GetUInt64(), emulated.Stats.GetProperty("instructionsRetired").GetUInt64());

        Assert.Equal(JsonValueKind.Null, native.Stats.GetProperty("vmm").ValueKind);
        var vmm = emulated.Stats.GetProperty("vmm");
        // hello reads mhartid twice (boot ROM, _start): both trap as CSR accesses; its 20 UART stores and the finisher store are device exits.
        Assert.Equal(2UL, vmm.GetProperty("trapsByCause").GetProperty("csr").GetUInt64());
        var uart = vmm.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "uart0");
        Assert.Equal(20UL, uart.GetProperty("exits").GetUInt64());
        Assert.Equal("emulated", uart.GetProperty("model").GetString());
        Assert.True(vmm.GetProperty("memory").GetProperty("hiddenFaults").GetUInt64() > 0);
        Assert.True(vmm.GetProperty("cost").GetProperty("vmmCycles").GetUInt64() > 0);
        Assert.Equal(0UL, emulated.Stats.GetProperty("silentFailures").GetUInt64());
    }

    [Fact]
    public async Task GarbageGuest_UnderTrapAndEmulate_EndsCrashed_AndTheServerServesOn()
    {
        // Random words, not a program: the guest traps with no handler until the hart is stuck.
        var random = new Random(6);
        var words = string.Join("\n", Enumerable.Range(0, 64).Select(_ => $"    .word 0x{random.Next():x8}"));
        var image = await _client.CreateAsmImageAsync("garbage", $".globl _start\n_start:\n{words}\n");
        var vm = await _client.CreateVmAsync(new { name = "garbage-te", imageId = image, memoryMiB = 16, cpu = new { mode = "trap-and-emulate" }, memory = new { mode = "shadow" }, instructionBudget = 10_000_000 });
        var id = vm.GetProperty("id").GetGuid();
        await _client.ActAsync(id, "boot");
        var end = await _client.WaitForStateAsync(id, "stopped", "crashed");
        Assert.Equal("crashed", end.GetProperty("state").GetString());
        Assert.StartsWith("trap loop", end.GetProperty("stateReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _client.GetAsync("/healthz")).StatusCode);
        // The VM can be booted again after the crash.
        await _client.ActAsync(id, "boot");
        Assert.Equal("crashed", (await _client.WaitForStateAsync(id, "stopped", "crashed")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task TrapAndEmulate_WithDirectMemory_IsRefusedWithTheValidCombinations()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/vms", new { name = "te-direct", imageId = await _client.ImageIdAsync("hello"), cpu = new { mode = "trap-and-emulate" }, memory = new { mode = "direct" } });
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid-mode-combination", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task StatDescriptors_DescribeEveryCounterTheStatsReport()
    {
        var descriptors = await _client.GetFromJsonAsync<JsonElement>("/api/v1/stats/descriptors");
        var names = descriptors.EnumerateArray().Select(d => d.GetProperty("name").GetString()!).ToHashSet();
        foreach (var descriptor in descriptors.EnumerateArray())
        {
            Assert.False(string.IsNullOrWhiteSpace(descriptor.GetProperty("unit").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(descriptor.GetProperty("increments").GetString()));
            Assert.NotEmpty(descriptor.GetProperty("modes").EnumerateArray());
        }
        // demo-devices with a split disk, so the stats hold a device of the VM's own too.
        var emulated = await RunHelloAsync("devices-described", "trap-and-emulate", "shadow", image: "demo-devices", devices: [new { kind = "block", model = "split", sizeMiB = 1 }]);
        var leaves = new List<string>();
        Collect(emulated.Stats, "", leaves);
        foreach (var leaf in leaves.Where(l => l is not ("vmId" or "state")))
        {
            Assert.True(names.Contains(leaf), $"stats field {leaf} has no descriptor");
        }
        // And every descriptor names a field the stats really have.
        foreach (var name in names)
        {
            Assert.Contains(name, leaves);
        }
    }

    /// <summary>The counter names of a stats response: object paths, dictionaries as one name, arrays as name[].</summary>
    private static void Collect(JsonElement element, string path, List<string> leaves)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object when path.EndsWith("ByCause", StringComparison.Ordinal) || path.EndsWith("ByPrivilege", StringComparison.Ordinal):
                leaves.Add(path);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Collect(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", leaves);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var property in item.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number))
                    {
                        var name = $"{path}[].{property.Name}";
                        if (!leaves.Contains(name))
                        {
                            leaves.Add(name);
                        }
                    }
                }
                break;
            default:
                leaves.Add(path);
                break;
        }
    }
}
