using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtApi.Devices;
using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence;
using VirtApi.Runtime;

namespace VirtApi.Api.Tests;

/// <summary>Issue 8 through the API: a VM's devices, their slots and names, the rules, and how they travel with snapshots.</summary>
public sealed class DevicesApiTests : IClassFixture<VirtApiFactory>
{
    private readonly VirtApiFactory _factory;
    private readonly HttpClient _client;

    public DevicesApiTests(VirtApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    private async Task<Guid> NewVmAsync(string name, Guid? hostId = null, object[]? devices = null, Guid? imageId = null) =>
        (await _client.CreateVmAsync(new { name, imageId = imageId ?? await _client.ImageIdAsync("hello"), memoryMiB = 16, hostId, devices })).Id();

    private async Task<int> VmCountAsync() =>
        (await _client.GetFromJsonAsync<JsonElement>("/api/v1/vms?limit=500")).GetProperty("total").GetInt32();

    [Theory]
    [InlineData("console", "emulated", "uart1", null)]
    [InlineData("console", "split", "virtio-console0", null)]
    [InlineData("console", "passthrough", "uart1", null)]
    [InlineData("block", "emulated", "ata0", 16)]
    [InlineData("block", "split", "virtio-blk0", 16)]
    [InlineData("block", "passthrough", "ata0", null)]
    public async Task AttachListDetach_OfEachKindAndModel_GivesTheSlotZeroName_AndLeavesNothingBehind(string kind, string model, string name, int? sizeMiB)
    {
        var host = await _client.CreateHostAsync($"kinds-{kind}-{model}");
        var vm = await NewVmAsync($"kinds-{kind}-{model}", host.Id());
        Guid? hostDevice = model == "passthrough" ? host.HostDevice(kind == "block" ? "disk0" : "tty0") : null;

        var device = await _client.AttachedAsync(vm, new { kind, model, hostDeviceId = hostDevice });
        Assert.Equal(kind, device.GetProperty("kind").GetString());
        Assert.Equal(model, device.GetProperty("model").GetString());
        Assert.Equal(0, device.GetProperty("slot").GetInt32());
        Assert.Equal(name, device.GetProperty("name").GetString());
        Assert.Equal(sizeMiB, device.GetProperty("sizeMiB").ValueKind == JsonValueKind.Null ? null : device.GetProperty("sizeMiB").GetInt32());
        Assert.Equal(hostDevice, device.GetProperty("hostDeviceId").ValueKind == JsonValueKind.Null ? null : device.GetProperty("hostDeviceId").GetGuid());
        Assert.Equal(device.GetRawText(), (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/devices/{device.Id()}")).GetRawText());
        Assert.Equal([(name, 0)], await _client.DeviceNamesAsync(vm));
        Assert.Equal(name, (await _client.GetVmAsync(vm)).GetProperty("devices")[0].GetProperty("name").GetString());
        if (hostDevice is { } held)
        {
            Assert.Equal(vm, await _client.AssignedVmAsync(host.Id(), held));
        }

        await _client.DetachAsync(vm, device.Id());
        Assert.Empty(await _client.DeviceNamesAsync(vm));
        await (await _client.GetAsync($"/api/v1/vms/{vm}/devices/{device.Id()}")).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _client.DeleteAsync($"/api/v1/vms/{vm}/devices/{device.Id()}")).ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
        if (hostDevice is { } freed)
        {
            Assert.Null(await _client.AssignedVmAsync(host.Id(), freed));
        }
    }

    [Fact]
    public async Task Slots_AreTheLowestFree_DetachingOneMovesNoOther_AndTheFreedSlotIsTakenNext()
    {
        var vm = await NewVmAsync("slots");
        var blk0 = await _client.AttachedAsync(vm, new { kind = "block", model = "split", sizeMiB = 4 });
        var con1 = await _client.AttachedAsync(vm, new { kind = "console", model = "split" });
        await _client.AttachedAsync(vm, new { kind = "block", model = "split" });
        await _client.AttachedAsync(vm, new { kind = "console", model = "emulated" });
        await _client.AttachedAsync(vm, new { kind = "block", model = "emulated", sizeMiB = 1024 });
        Assert.Equal([("uart1", 0), ("virtio-blk0", 0), ("ata1", 1), ("virtio-console1", 1), ("virtio-blk2", 2)], await _client.DeviceNamesAsync(vm));

        await _client.DetachAsync(vm, con1.Id());
        await _client.DetachAsync(vm, blk0.Id());
        Assert.Equal([("uart1", 0), ("ata1", 1), ("virtio-blk2", 2)], await _client.DeviceNamesAsync(vm));

        var again = await _client.AttachedAsync(vm, new { kind = "block", model = "split" });
        Assert.Equal("virtio-blk0", again.GetProperty("name").GetString());
        Assert.Equal(16, again.GetProperty("sizeMiB").GetInt32());
        Assert.Equal([("uart1", 0), ("virtio-blk0", 0), ("ata1", 1), ("virtio-blk2", 2)], await _client.DeviceNamesAsync(vm));
    }

    [Fact]
    public async Task ANinthSplitDevice_Is409VirtioSlotsFull_AndAFifthLegacyDevice_Is409LegacySlotsFull()
    {
        var host = await _client.CreateHostAsync("slots-full");
        var vm = await NewVmAsync("slots-full", host.Id());
        for (var i = 0; i < 8; i++)
        {
            await _client.AttachedAsync(vm, new { kind = i % 2 == 0 ? "block" : "console", model = "split" });
        }
        var virtio = await (await _client.AttachAsync(vm, new { kind = "console", model = "split" })).ReadProblemAsync(HttpStatusCode.Conflict, "virtio-slots-full");
        Assert.Equal(8, virtio.GetProperty("devices").GetArrayLength());

        // Emulated and passthrough devices share the four legacy slots.
        await _client.AttachedAsync(vm, new { kind = "block", model = "emulated" });
        await _client.AttachedAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") });
        await _client.AttachedAsync(vm, new { kind = "console", model = "passthrough", hostDeviceId = host.HostDevice("tty0") });
        await _client.AttachedAsync(vm, new { kind = "console", model = "emulated" });
        var legacy = await (await _client.AttachAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk1") })).ReadProblemAsync(HttpStatusCode.Conflict, "legacy-slots-full");
        Assert.Equal(["ata0", "ata1", "uart3", "uart4"], legacy.GetProperty("devices").EnumerateArray().Select(d => d.GetString()!).ToArray());
        Assert.Equal(12, (await _client.DeviceNamesAsync(vm)).Length);
        Assert.Null(await _client.AssignedVmAsync(host.Id(), host.HostDevice("disk1")));
    }

    [Theory]
    [InlineData("""{}""", "kind", "is required: one of console, block, net")]
    [InlineData("""{ "kind": "block" }""", "model", "is required: one of emulated, split, passthrough")]
    [InlineData("""{ "kind": "floppy", "model": "split" }""", "kind", "must be one of console, block, net")]
    [InlineData("""{ "kind": "block", "model": "virtual" }""", "model", "must be one of emulated, split, passthrough")]
    [InlineData("""{ "kind": "block", "model": "passthrough" }""", "hostDeviceId", "is required for a passthrough device: the id of a free device of the VM's host")]
    [InlineData("""{ "kind": "block", "model": "split", "hostDeviceId": "0190a000-0000-7000-8000-000000000000" }""", "hostDeviceId", "must be left out: only a passthrough device is a host device, this one is split")]
    [InlineData("""{ "kind": "console", "model": "emulated", "sizeMiB": 4 }""", "sizeMiB", "must be left out: only a block device has a size, this one is console")]
    [InlineData("""{ "kind": "block", "model": "passthrough", "hostDeviceId": "0190a000-0000-7000-8000-000000000000", "sizeMiB": 4 }""", "sizeMiB", "must be left out: a passthrough disk has the size of its host device")]
    [InlineData("""{ "kind": "block", "model": "split", "sizeMiB": 0 }""", "sizeMiB", "must be between 1 and 1024, was 0")]
    [InlineData("""{ "kind": "block", "model": "emulated", "sizeMiB": 1025 }""", "sizeMiB", "must be between 1 and 1024, was 1025")]
    [InlineData("""{ "kind": "block", "model": "split", "size": 4 }""", "size", "is not a known field")]
    public async Task Attach_WithAnInvalidField_Is400NamingIt_AndAttachesNothing(string body, string field, string reason)
    {
        var vm = await NewVmAsync($"invalid-{Guid.NewGuid():N}"[..30]);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var problem = await (await _client.PostAsync($"/api/v1/vms/{vm}/devices", content)).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal([reason], problem.ErrorsFor(field));
        Assert.Empty(await _client.DeviceNamesAsync(vm));
    }

    [Fact]
    public async Task Net_Is422DeviceKindUnavailable_ListingTheKindsThatHaveAModel()
    {
        var vm = await NewVmAsync("net");
        var problem = await (await _client.AttachAsync(vm, new { kind = "net", model = "split" })).ReadProblemAsync(HttpStatusCode.UnprocessableEntity, "device-kind-unavailable");
        Assert.Equal("net", problem.GetProperty("kind").GetString());
        Assert.Equal(["console", "block"], problem.GetProperty("available").EnumerateArray().Select(k => k.GetString()!).ToArray());
        Assert.Empty(await _client.DeviceNamesAsync(vm));
    }

    [Fact]
    public async Task Passthrough_NeedsAnExistingHostDeviceOfTheSameKindOnTheVmsHost_Else400NamingHostDeviceId()
    {
        var host = await _client.CreateHostAsync("pt-checks");
        var elsewhere = await _client.CreateHostAsync("pt-elsewhere");
        var vm = await NewVmAsync("pt-checks", host.Id());

        var missing = await (await _client.AttachAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = Guid.NewGuid() })).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.StartsWith("no host device has id", missing.ErrorsFor("hostDeviceId")[0], StringComparison.Ordinal);
        var otherHost = await (await _client.AttachAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = elsewhere.HostDevice("disk0") })).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["host device 'disk0' is on host 'pt-elsewhere', not on the VM's host 'pt-checks'"], otherHost.ErrorsFor("hostDeviceId"));
        var wrongKind = await (await _client.AttachAsync(vm, new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("tty0") })).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["host device 'tty0' is a console device, not a block device"], wrongKind.ErrorsFor("hostDeviceId"));
        Assert.Empty(await _client.DeviceNamesAsync(vm));
    }

    [Fact]
    public async Task APassthroughDevice_BelongsToOneVm_TheSecondGets409NamingTheFirst_UntilItIsDetachedOrTheVmDeleted()
    {
        var host = await _client.CreateHostAsync("exclusive");
        var disk = host.HostDevice("disk0");
        var first = await NewVmAsync("holder", host.Id());
        var second = await NewVmAsync("wanter", host.Id());
        var held = await _client.AttachedAsync(first, new { kind = "block", model = "passthrough", hostDeviceId = disk });
        Assert.Equal(first, await _client.AssignedVmAsync(host.Id(), disk));

        var problem = await (await _client.AttachAsync(second, new { kind = "block", model = "passthrough", hostDeviceId = disk })).ReadProblemAsync(HttpStatusCode.Conflict, "host-device-assigned");
        Assert.Equal(first, problem.GetProperty("vmId").GetGuid());
        Assert.Equal("holder", problem.GetProperty("vmName").GetString());
        Assert.Equal(disk, problem.GetProperty("hostDeviceId").GetGuid());
        Assert.Contains("'holder'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The same VM cannot take it twice either.
        await (await _client.AttachAsync(first, new { kind = "block", model = "passthrough", hostDeviceId = disk })).ReadProblemAsync(HttpStatusCode.Conflict, "host-device-assigned");

        // Freed on detach ...
        await _client.DetachAsync(first, held.Id());
        Assert.Null(await _client.AssignedVmAsync(host.Id(), disk));
        await _client.AttachedAsync(second, new { kind = "block", model = "passthrough", hostDeviceId = disk });
        Assert.Equal(second, await _client.AssignedVmAsync(host.Id(), disk));

        // ... and when its VM is deleted.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/vms/{second}")).StatusCode);
        Assert.Null(await _client.AssignedVmAsync(host.Id(), disk));
        await _client.AttachedAsync(first, new { kind = "block", model = "passthrough", hostDeviceId = disk });
    }

    [Fact]
    public async Task AttachAndDetach_WhileTheVmRunsOrIsPaused_Are409WithTheState_AndChangeNothing()
    {
        var vm = await NewVmAsync("busy", imageId: await _client.CreateAsmImageAsync("devices-spin", GuestSources.Spin));
        var console = await _client.AttachedAsync(vm, new { kind = "console", model = "split" });
        await _client.ActAsync(vm, "boot");

        foreach (var state in new[] { "running", "paused" })
        {
            var attach = await (await _client.AttachAsync(vm, new { kind = "block", model = "split" })).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
            Assert.Equal(state, attach.GetProperty("state").GetString());
            var detach = await (await _client.DeleteAsync($"/api/v1/vms/{vm}/devices/{console.Id()}")).ReadProblemAsync(HttpStatusCode.Conflict, "invalid-state");
            Assert.Equal(state, detach.GetProperty("state").GetString());
            Assert.Equal([("virtio-console0", 0)], await _client.DeviceNamesAsync(vm));
            if (state == "running")
            {
                await _client.ActAsync(vm, "pause");
            }
        }

        await _client.ActAsync(vm, "stop");
        await _client.AttachedAsync(vm, new { kind = "block", model = "split" });
        await _client.DetachAsync(vm, console.Id());
        Assert.Equal([("virtio-blk1", 1)], await _client.DeviceNamesAsync(vm));
        // The worker took the new definition: the VM boots with it.
        Assert.Equal("running", (await _client.ActAsync(vm, "boot")).GetProperty("state").GetString());
        await _client.ActAsync(vm, "stop");
    }

    [Fact]
    public async Task CreateVm_WithDevices_AttachesThemAll_AndPlacesTheVmOnItsPassthroughDevicesHost()
    {
        var host = await _client.CreateHostAsync("create-with");
        var created = await _client.CreateVmAsync(new
        {
            name = "created-with",
            imageId = await _client.ImageIdAsync("hello"),
            memoryMiB = 16,
            devices = new object[]
            {
                new { kind = "block", model = "split", sizeMiB = 2 },
                new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") },
                new { kind = "console", model = "emulated" },
            },
        });
        Assert.Equal(host.Id(), created.GetProperty("hostId").GetGuid());
        var names = created.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["ata0", "virtio-blk0", "uart2"], names);
        Assert.Equal([("ata0", 0), ("virtio-blk0", 0), ("uart2", 1)], await _client.DeviceNamesAsync(created.Id()));
        Assert.Equal(created.Id(), await _client.AssignedVmAsync(host.Id(), host.HostDevice("disk0")));
    }

    [Fact]
    public async Task CreateVm_WithOneBadDevice_CreatesNoVm_WhateverTheRuleItBreaks()
    {
        var host = await _client.CreateHostAsync("all-or-nothing");
        var holder = await NewVmAsync("aon-holder", host.Id(), [new { kind = "console", model = "passthrough", hostDeviceId = host.HostDevice("tty0") }]);
        var image = await _client.ImageIdAsync("hello");
        var before = await VmCountAsync();
        object Vm(params object[] devices) => new { name = "aon", imageId = image, memoryMiB = 16, hostId = host.Id(), devices };

        var invalid = await (await _client.PostAsJsonAsync("/api/v1/vms", Vm(new { kind = "block", model = "split" }, new { kind = "block", model = "split", sizeMiB = 5000 }))).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["must be between 1 and 1024, was 5000"], invalid.ErrorsFor("devices[1].sizeMiB"));
        var twice = await (await _client.PostAsJsonAsync("/api/v1/vms", Vm(
            new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") },
            new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") }))).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(["host device 'disk0' is already given to devices[0]"], twice.ErrorsFor("devices[1].hostDeviceId"));
        var held = await (await _client.PostAsJsonAsync("/api/v1/vms", Vm(new { kind = "block", model = "split" }, new { kind = "console", model = "passthrough", hostDeviceId = host.HostDevice("tty0") }))).ReadProblemAsync(HttpStatusCode.Conflict, "host-device-assigned");
        Assert.Equal(holder, held.GetProperty("vmId").GetGuid());
        await (await _client.PostAsJsonAsync("/api/v1/vms", Vm(new { kind = "console", model = "emulated" }, new { kind = "net", model = "split" }))).ReadProblemAsync(HttpStatusCode.UnprocessableEntity, "device-kind-unavailable");
        await (await _client.PostAsJsonAsync("/api/v1/vms", Vm([.. Enumerable.Range(0, 9).Select(_ => new { kind = "console", model = "split" })]))).ReadProblemAsync(HttpStatusCode.Conflict, "virtio-slots-full");
        await (await _client.PostAsJsonAsync("/api/v1/vms", Vm([.. Enumerable.Range(0, 5).Select(_ => new { kind = "console", model = "emulated" })]))).ReadProblemAsync(HttpStatusCode.Conflict, "legacy-slots-full");

        Assert.Equal(before, await VmCountAsync());
        Assert.Null(await _client.AssignedVmAsync(host.Id(), host.HostDevice("disk0")));
        var usage = (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{host.Id()}")).GetProperty("usage");
        Assert.Equal(1, usage.GetProperty("vms").GetInt32());
        Assert.Equal(16, usage.GetProperty("memoryUsedMiB").GetInt64());
    }

    [Fact]
    public async Task TheWorkersSpec_HasTheDevicesBySlot_WithTheirBackingFilesAndSizes_AndTheHostsType()
    {
        var host = await _client.CreateHostAsync("spec-host", "bare-metal");
        var vm = await NewVmAsync("spec", host.Id(),
        [
            new { kind = "block", model = "split", sizeMiB = 8 },
            new { kind = "console", model = "emulated" },
            new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") },
            new { kind = "console", model = "split" },
        ]);

        using var scope = _factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VirtApiDbContext>();
        var files = _factory.Services.GetRequiredService<DeviceFiles>();
        var entity = await db.Vms.AsNoTracking().WithDefinition().FirstAsync(v => v.Id == vm);
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == entity.ImageId);
        var spec = VmSupervisor.Spec(entity, image, files);

        Assert.Equal(HypervisorType.BareMetal, spec.HostType);
        Assert.Equal(["uart1", "virtio-blk0", "ata1", "virtio-console1"], spec.DeviceList.Select(d => d.Name).ToArray());
        Assert.Equal([0, 0, 1, 1], spec.DeviceList.Select(d => d.Slot).ToArray());
        Assert.Equal([DeviceModel.Emulated, DeviceModel.Split, DeviceModel.Passthrough, DeviceModel.Split], spec.DeviceList.Select(d => d.Model).ToArray());
        var byName = spec.DeviceList.ToDictionary(d => d.Name);
        var virtioDisk = entity.Devices.Single(d => d.Name == "virtio-blk0");
        Assert.Equal(virtioDisk.Id, byName["virtio-blk0"].Id);
        Assert.Equal(new DiskBacking(Path.Combine(files.DataFolder, "disks", vm.ToString(), $"{virtioDisk.Id}.img"), 8L << 20), byName["virtio-blk0"].Disk);
        Assert.Equal(new DiskBacking(Path.Combine(files.DataFolder, "host-devices", host.Id().ToString(), "disk0.img"), 32L << 20), byName["ata1"].Disk);
        Assert.Null(byName["uart1"].Disk);
        Assert.Null(byName["virtio-console1"].Disk);
        // The data folder is the database's.
        Assert.Equal(Path.GetDirectoryName(_factory.DatabasePath), files.DataFolder);
    }

    [Fact]
    public async Task DeletingAVm_DeletesItsDiskFiles_DetachingDeletesThatDevicesFile_AndHostDeviceFilesStay()
    {
        var host = await _client.CreateHostAsync("files");
        var vm = await NewVmAsync("files", host.Id(),
        [
            new { kind = "block", model = "split" },
            new { kind = "block", model = "emulated" },
            new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") },
        ]);
        var files = _factory.Services.GetRequiredService<DeviceFiles>();
        var devices = (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/devices")).GetProperty("items").EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.Id());
        // What the hypervisor would have created on first use.
        string Touch(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, new byte[4096]);
            return path;
        }
        var virtio = Touch(files.VmDiskPath(vm, devices["virtio-blk0"]));
        var ata = Touch(files.VmDiskPath(vm, devices["ata0"]));
        var hostDisk = Touch(files.HostDevicePath(host.Id(), "disk0"));

        await _client.DetachAsync(vm, devices["ata0"]);
        Assert.False(File.Exists(ata));
        Assert.True(File.Exists(virtio));
        await _client.DetachAsync(vm, devices["ata1"]);
        Assert.True(File.Exists(hostDisk));

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/vms/{vm}")).StatusCode);
        Assert.False(File.Exists(virtio));
        Assert.False(Directory.Exists(files.VmDisksFolder(vm)));
        Assert.True(File.Exists(hostDisk));
    }

    [Fact]
    public async Task ASnapshotOfAVmWithAPassthroughDevice_Is409NamingTheDevice_AndBlockersNameIt()
    {
        var host = await _client.CreateHostAsync("pt-snapshot");
        var vm = await NewVmAsync("pt-snapshot", host.Id(), [new { kind = "block", model = "passthrough", hostDeviceId = host.HostDevice("disk0") }, new { kind = "block", model = "split" }]);
        var response = await _client.PostAsJsonAsync($"/api/v1/vms/{vm}/snapshots", new { name = "refused" });
        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict, "passthrough-device-attached");
        var blocker = Assert.Single(problem.GetProperty("devices").EnumerateArray());
        Assert.Equal("ata0", blocker.GetProperty("name").GetString());
        Assert.Equal(host.HostDevice("disk0"), blocker.GetProperty("hostDeviceId").GetGuid());
        Assert.Empty((await _client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/snapshots")).GetProperty("items").EnumerateArray());

        // The rule live migration will call (issue 9) gives the same answer from the stored VM.
        using var scope = _factory.Services.CreateScope();
        var entity = await scope.ServiceProvider.GetRequiredService<VirtApiDbContext>().Vms.AsNoTracking().WithDefinition().FirstAsync(v => v.Id == vm);
        Assert.Equal(["ata0"], DeviceRules.Blockers(entity.Devices).Select(b => b.Name).ToArray());
    }

    [Fact]
    public async Task Snapshot_RecordsTheDeviceList_RestoreNeedsTheSameList_AndACloneGetsItWithNewIds()
    {
        var vm = await NewVmAsync("snap-devices", devices: [new { kind = "block", model = "split", sizeMiB = 3 }, new { kind = "console", model = "emulated" }]);
        var snapshot = await _client.SnapshotAsync(vm, "with-devices");
        var saved = snapshot.GetProperty("definition").GetProperty("devices").EnumerateArray().Select(d => (d.GetProperty("name").GetString(), d.GetProperty("kind").GetString(), d.GetProperty("model").GetString(), d.GetProperty("slot").GetInt32())).ToArray();
        Assert.Equal([("uart1", "console", "emulated", 0), ("virtio-blk0", "block", "split", 0)], saved);
        Assert.Equal(3, snapshot.GetProperty("definition").GetProperty("devices")[1].GetProperty("sizeMiB").GetInt32());

        // A VM whose device list changed since is refused, naming devices.
        var extra = await _client.AttachedAsync(vm, new { kind = "console", model = "split" });
        var restore = await (await _client.PostAsync($"/api/v1/snapshots/{snapshot.Id()}/restore", null)).ReadProblemAsync(HttpStatusCode.Conflict, "snapshot-definition-mismatch");
        Assert.Equal("the snapshot has [uart1 emulated console, virtio-blk0 split block 3 MiB], the VM has [uart1 emulated console, virtio-blk0 split block 3 MiB, virtio-console1 split console]",
            restore.GetProperty("differences").GetProperty("devices").GetString());
        Assert.Equal(["devices"], restore.GetProperty("differences").EnumerateObject().Select(p => p.Name).ToArray());
        await _client.DetachAsync(vm, extra.Id());
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/api/v1/snapshots/{snapshot.Id()}/restore", null)).StatusCode);

        var clone = await _client.CloneAsync(snapshot.Id(), "snap-devices-clone");
        var original = (await _client.GetVmAsync(vm)).GetProperty("devices");
        var copied = clone.GetProperty("devices");
        Assert.Equal(original.GetArrayLength(), copied.GetArrayLength());
        for (var i = 0; i < original.GetArrayLength(); i++)
        {
            foreach (var field in new[] { "kind", "model", "slot", "name", "sizeMiB" })
            {
                Assert.Equal(original[i].GetProperty(field).GetRawText(), copied[i].GetProperty(field).GetRawText());
            }
            Assert.NotEqual(original[i].Id(), copied[i].Id());
        }
        Assert.Equal([("uart1", 0), ("virtio-blk0", 0)], await _client.DeviceNamesAsync(clone.Id()));

        // Cloning takes no device list of its own.
        var refused = await (await _client.PostAsJsonAsync("/api/v1/vms", new { name = "clone-with", fromSnapshotId = snapshot.Id(), devices = Array.Empty<object>() })).ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(refused.ErrorsFor("devices"));
    }

    [Fact]
    public async Task AnExportedSnapshot_CarriesItsDevices_ToTheImportAndItsClone_AndAVersion1FileStillImports()
    {
        var vm = await NewVmAsync("export-devices", devices: [new { kind = "block", model = "emulated", sizeMiB = 5 }, new { kind = "console", model = "split" }]);
        var snapshot = await _client.SnapshotAsync(vm, "exported");
        var file = await _client.GetByteArrayAsync($"/api/v1/snapshots/{snapshot.Id()}/export");
        Assert.Equal(2, BitConverter.ToInt32(file, 8));

        using var other = new VirtApiFactory();
        var remote = other.CreateClient();
        var imported = await (await ImportAsync(remote, file)).Content.ReadFromJsonAsync<JsonElement>();
        var importedSnapshot = imported.GetProperty("snapshot");
        Assert.Equal(snapshot.GetProperty("definition").GetProperty("devices").GetRawText(), importedSnapshot.GetProperty("definition").GetProperty("devices").GetRawText());
        var clone = await remote.CloneAsync(importedSnapshot.Id(), "imported-devices");
        Assert.Equal([("ata0", 0), ("virtio-console0", 0)], await remote.DeviceNamesAsync(clone.Id()));

        // A version 1 file (before devices) is still read, as a snapshot without devices.
        var bare = await _client.SnapshotAsync(await NewVmAsync("export-bare"), "bare");
        var version1 = ToVersion1(await _client.GetByteArrayAsync($"/api/v1/snapshots/{bare.Id()}/export"));
        var old = await ImportAsync(remote, version1);
        Assert.True(old.StatusCode == HttpStatusCode.Created, await old.Content.ReadAsStringAsync());
        Assert.Empty((await old.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("snapshot").GetProperty("definition").GetProperty("devices").EnumerateArray());
    }

    /// <summary>A version 2 file of a snapshot without devices, rewritten as version 1 wrote it: no devices field, version 1, checksum redone.</summary>
    private static byte[] ToVersion1(byte[] file)
    {
        var headerLength = BitConverter.ToInt32(file, 12);
        var header = Encoding.UTF8.GetString(file, 16, headerLength);
        Assert.Contains(",\"devices\":[]", header, StringComparison.Ordinal);
        var oldHeader = Encoding.UTF8.GetBytes(header.Replace(",\"devices\":[]", "", StringComparison.Ordinal));
        using var output = new MemoryStream();
        output.Write(file, 0, 8);
        output.Write(BitConverter.GetBytes(1));
        output.Write(BitConverter.GetBytes(oldHeader.Length));
        output.Write(oldHeader);
        output.Write(file, 16 + headerLength, file.Length - 32 - 16 - headerLength);
        output.Write(System.Security.Cryptography.SHA256.HashData(output.ToArray()));
        return output.ToArray();
    }

    private static Task<HttpResponseMessage> ImportAsync(HttpClient client, byte[] file)
    {
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new("application/octet-stream");
        return client.PostAsync("/api/v1/snapshots/import", content);
    }
}
