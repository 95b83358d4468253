using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VirtApi.Api.Tests;

/// <summary>
/// VMs with devices run through the real server: the built-in <c>demo-devices</c> guest on disks of each
/// model, its data in backing files that outlive the VM and the server, and the statistics that show
/// who sat on the path.
/// </summary>
public sealed partial class DeviceRunTests : IDisposable
{
    private readonly string _databasePath = VirtApiFactory.NewDatabasePath();

    public void Dispose() => VirtApiFactory.DeleteDatabase(_databasePath);

    [GeneratedRegex(@"^([a-z0-9-]+): gen (\d+) before ([0-9a-f]{8}) after ([0-9a-f]{8})$", RegexOptions.Multiline)]
    private static partial Regex DiskLine();

    private static Dictionary<string, (int Gen, string Before, string After)> Disks(string console) =>
        DiskLine().Matches(console).ToDictionary(m => m.Groups[1].Value, m => (int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[3].Value, m.Groups[4].Value));

    private static async Task<(JsonElement Stats, string Console)> BootToEndAsync(HttpClient client, Guid vm)
    {
        await client.ActAsync(vm, "boot");
        var end = await client.WaitForStateAsync(vm, "stopped", "crashed");
        Assert.Equal("guest-power-off", end.GetProperty("stateReason").GetString());
        return (await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats"), await client.RunConsoleAsync(vm));
    }

    private static JsonElement Device(JsonElement stats, string name) =>
        stats.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("name").GetString() == name);

    [Fact]
    public async Task ThreeModels_SameChecksums_AndExitsEmulatedAboveSplitAbovePassthroughAtZero()
    {
        using var factory = VirtApiFactory.OnDatabase(_databasePath);
        var client = factory.CreateClient();
        var host = await client.CreateHostAsync("devices-run", "bare-metal");
        var vm = (await client.CreateVmAsync(new
        {
            name = "three-models",
            imageId = await client.ImageIdAsync("demo-devices"),
            memoryMiB = 16,
            hostId = host.Id(),
            cpu = new { mode = "trap-and-emulate" },
            memory = new { mode = "shadow" },
            devices = new object[]
            {
                new { kind = "block", model = "split", sizeMiB = 1 },
                new { kind = "block", model = "emulated", sizeMiB = 1 },
                new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") },
            },
        })).Id();

        var (stats, console) = await BootToEndAsync(client, vm);

        var disks = Disks(console);
        Assert.Equal(["ata0", "ata1", "virtio-blk0"], disks.Keys.Order(StringComparer.Ordinal));
        Assert.Single(disks.Values.Select(d => (d.Before, d.After)).Distinct());
        var emulated = Device(stats, "ata0");
        var split = Device(stats, "virtio-blk0");
        var passthrough = Device(stats, "ata1");
        Assert.Equal("emulated", emulated.GetProperty("model").GetString());
        Assert.Equal("passthrough", passthrough.GetProperty("model").GetString());
        Assert.True(emulated.GetProperty("exits").GetUInt64() > split.GetProperty("exits").GetUInt64());
        Assert.True(split.GetProperty("exits").GetUInt64() > 0);
        Assert.Equal(0UL, passthrough.GetProperty("exits").GetUInt64());
        Assert.True(passthrough.GetProperty("directAccesses").GetUInt64() > 0);
        // A bare-metal host runs split back ends in its service VM.
        Assert.Equal("service-vm", split.GetProperty("backEnd").GetString());
        Assert.Equal(split.GetProperty("backEndCycles").GetUInt64(), stats.GetProperty("vmm").GetProperty("cost").GetProperty("serviceVmCycles").GetUInt64());
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("virtapi_vm_device_direct_accesses_total{vm=\"three-models\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DiskData_SurvivesAServerRestart_AndTheNextBootReadsIt()
    {
        Guid vm;
        Dictionary<string, (int Gen, string Before, string After)> first;
        using (var factory = VirtApiFactory.OnDatabase(_databasePath))
        {
            var client = factory.CreateClient();
            var host = await client.CreateHostAsync("durable", "hosted");
            vm = (await client.CreateVmAsync(new
            {
                name = "durable",
                imageId = await client.ImageIdAsync("demo-devices"),
                memoryMiB = 16,
                hostId = host.Id(),
                devices = new object[]
                {
                    new { kind = "block", model = "split", sizeMiB = 1 },
                    new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") },
                },
            })).Id();
            first = Disks((await BootToEndAsync(client, vm)).Console);
        }
        using (var factory = VirtApiFactory.OnDatabase(_databasePath))
        {
            var client = factory.CreateClient();
            var second = Disks((await BootToEndAsync(client, vm)).Console);

            foreach (var (name, disk) in first)
            {
                Assert.Equal(1, disk.Gen);
                Assert.Equal(2, second[name].Gen);
                Assert.Equal(disk.After, second[name].Before);
            }
        }
    }
}
