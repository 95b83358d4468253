using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

public sealed class RestartTests : IDisposable
{
    private readonly string _databasePath = VirtApiFactory.NewDatabasePath();

    public void Dispose() => VirtApiFactory.DeleteDatabase(_databasePath);

    [Fact]
    public async Task AfterARestart_DefinitionsAndImagesAreThere_AndRunningVmsAreStoppedWithReasonHostRestart()
    {
        Guid running, finished, image;
        using (var first = VirtApiFactory.OnDatabase(_databasePath))
        {
            var client = first.CreateClient();
            image = await client.CreateAsmImageAsync("spin", GuestSources.Spin);
            running = (await client.CreateVmAsync(new { name = "long-runner", imageId = image })).GetProperty("id").GetGuid();
            finished = (await client.CreateVmAsync(new { name = "short", imageId = await client.ImageIdAsync("hello") })).GetProperty("id").GetGuid();
            await client.ActAsync(finished, "boot");
            await client.WaitForStateAsync(finished, "stopped");
            await client.ActAsync(running, "boot");
            await client.WaitForStateAsync(running, "running");
        }

        using var second = VirtApiFactory.OnDatabase(_databasePath);
        var again = second.CreateClient();
        var vm = await again.GetVmAsync(running);
        Assert.Equal("stopped", vm.GetProperty("state").GetString());
        Assert.Equal("host-restart", vm.GetProperty("stateReason").GetString());
        var done = await again.GetVmAsync(finished);
        Assert.Equal("guest-power-off", done.GetProperty("stateReason").GetString());
        Assert.Equal(0, done.GetProperty("exitCode").GetInt32());
        Assert.Equal("spin", (await again.GetFromJsonAsync<JsonElement>($"/api/v1/images/{image}")).GetProperty("name").GetString());

        // A stopped VM boots again after the restart.
        await again.ActAsync(running, "boot");
        Assert.Equal("running", (await again.GetVmAsync(running)).GetProperty("state").GetString());
        await again.ActAsync(running, "stop");
    }

    [Fact]
    public async Task AfterARestart_SnapshotsTheirPagesAndChainsAreThere_AndRestoreAndCloneAsBefore()
    {
        Guid vm, diff;
        string reference, before;
        using (var first = VirtApiFactory.OnDatabase(_databasePath))
        {
            var client = first.CreateClient();
            var image = await client.ImageIdAsync("demo-kernel");
            var whole = (await client.CreateVmAsync(new { name = "whole", imageId = image, cpu = new { mode = "trap-and-emulate" } })).GetProperty("id").GetGuid();
            await client.ActAsync(whole, "boot");
            await client.WaitForStateAsync(whole, "stopped");
            reference = await client.RunConsoleAsync(whole);

            vm = (await client.CreateVmAsync(new { name = "snapped", imageId = image, cpu = new { mode = "trap-and-emulate" } })).GetProperty("id").GetGuid();
            await client.RunToAsync(vm, "boot", 300_000);
            await client.SnapshotAsync(vm, "base");
            await client.RunToAsync(vm, "resume", 700_000);
            before = await client.RunConsoleAsync(vm);
            diff = (await client.SnapshotAsync(vm, "later", "diff")).GetProperty("id").GetGuid();
        }

        using var second = VirtApiFactory.OnDatabase(_databasePath);
        var again = second.CreateClient();
        var listed = (await again.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/snapshots")).GetProperty("items");
        Assert.Equal(["base", "later"], listed.EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(listed[0].GetProperty("id").GetGuid(), listed[1].GetProperty("parentId").GetGuid());

        var clone = await again.CloneAsync(diff, "after-restart");
        Assert.Equal(reference, before + await again.FinishAsync(clone.GetProperty("id").GetGuid()));
        // The VM came back stopped; its own snapshot restores into it.
        Assert.Equal("stopped", (await again.GetVmAsync(vm)).GetProperty("state").GetString());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await again.PostAsync($"/api/v1/snapshots/{diff}/restore", null)).StatusCode);
        Assert.Equal(reference, before + await again.FinishAsync(vm));
    }

    [Fact]
    public async Task AfterARestart_DevicesKeepTheirSlotsNamesAndHostDevices_AndTheFreedSlotIsStillFree()
    {
        Guid vm, hostId, disk;
        (string, int)[] before;
        using (var first = VirtApiFactory.OnDatabase(_databasePath))
        {
            var client = first.CreateClient();
            var host = await client.CreateHostAsync("restart-host");
            (hostId, disk) = (host.Id(), host.HostDevice("disk0"));
            vm = (await client.CreateVmAsync(new
            {
                name = "with-devices",
                imageId = await client.ImageIdAsync("hello"),
                memoryMiB = 16,
                hostId,
                devices = new object[]
                {
                    new { kind = "block", model = "split", sizeMiB = 2 },
                    new { kind = "console", model = "split" },
                    new { kind = "block", model = "passthrough", hostDeviceId = disk },
                },
            })).Id();
            var console = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/devices")).GetProperty("items").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "virtio-console1");
            await client.DetachAsync(vm, console.Id());
            await client.AttachedAsync(vm, new { kind = "console", model = "emulated" });
            before = await client.DeviceNamesAsync(vm);
            Assert.Equal([("ata0", 0), ("virtio-blk0", 0), ("uart2", 1)], before);
        }

        using var second = VirtApiFactory.OnDatabase(_databasePath);
        var again = second.CreateClient();
        Assert.Equal(before, await again.DeviceNamesAsync(vm));
        Assert.Equal(vm, await again.AssignedVmAsync(hostId, disk));
        Assert.Equal(2, (await again.GetVmAsync(vm)).GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "virtio-blk0").GetProperty("sizeMiB").GetInt32());
        var next = await again.AttachedAsync(vm, new { kind = "console", model = "split" });
        Assert.Equal("virtio-console1", next.GetProperty("name").GetString());
    }
}
