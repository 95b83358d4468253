using System.Text.RegularExpressions;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Devices;

/// <summary>
/// The three device models (DESIGN.md "Device virtualization") with the built-in <c>demo-devices</c>
/// guest, whose drivers write blocks, read them back and print checksums: the same data gives the same
/// checksums under every model, and what differs is who sat on the path.
/// </summary>
public sealed partial class DeviceModelTests : IDisposable
{
    private static readonly byte[] Demo = GuestRun.BuiltIn("demo-devices");
    private readonly string _folder = Directory.CreateTempSubdirectory("virtapi-devices-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private VmDeviceSpec Disk(string name, DeviceModel model, int slot, string? file = null) =>
        new(Guid.NewGuid(), name, DeviceKind.Block, model, slot, new DiskBacking(Path.Combine(_folder, file ?? name + ".img"), 1 << 20));

    private static VmDeviceStatistics Device(GuestRun.Outcome run, string name) => run.Statistics.Devices!.Single(d => d.Name == name);

    /// <summary>The checksum part of a disk's line (everything after its name).</summary>
    private static string Checksums(string console, string name) =>
        DiskLine().Matches(console).Single(m => m.Groups[1].Value == name).Groups[2].Value;

    [GeneratedRegex(@"^([a-z0-9-]+): (gen \d+ before [0-9a-f]{8} after [0-9a-f]{8})$", RegexOptions.Multiline)]
    private static partial Regex DiskLine();

    [Theory]
    [InlineData(CpuMode.Native)]
    [InlineData(CpuMode.TrapAndEmulate)]
    public void EveryModelGivesTheSameChecksumsForTheSameData(CpuMode mode)
    {
        var run = GuestRun.Run(Demo, mode, devices:
        [
            Disk("virtio-blk0", DeviceModel.Split, 0),
            Disk("ata0", DeviceModel.Emulated, 0),
            Disk("ata1", DeviceModel.Passthrough, 1),
        ]);

        Assert.Equal(GuestRunOutcome.PoweredOff, run.Result.Outcome);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Contains("done 3\n", run.Console, StringComparison.Ordinal);
        var split = Checksums(run.Console, "virtio-blk0");
        Assert.StartsWith("gen 1 ", split, StringComparison.Ordinal);
        Assert.Equal(split, Checksums(run.Console, "ata0"));
        Assert.Equal(split, Checksums(run.Console, "ata1"));
    }

    [Fact]
    public void ForTheSameTransferEmulatedExitsMoreThanSplitAndPassthroughNever()
    {
        var emulated = GuestRun.Run(Demo, CpuMode.TrapAndEmulate, devices: [Disk("ata0", DeviceModel.Emulated, 0)]);
        var split = GuestRun.Run(Demo, CpuMode.TrapAndEmulate, devices: [Disk("virtio-blk0", DeviceModel.Split, 0)]);
        var passthrough = GuestRun.Run(Demo, CpuMode.TrapAndEmulate, devices: [Disk("ata0", DeviceModel.Passthrough, 0, "host-sda.img")]);

        var e = Device(emulated, "ata0");
        var s = Device(split, "virtio-blk0");
        var p = Device(passthrough, "ata0");
        Assert.Equal(Checksums(emulated.Console, "ata0"), Checksums(split.Console, "virtio-blk0"));
        Assert.Equal(Checksums(emulated.Console, "ata0"), Checksums(passthrough.Console, "ata0"));
        Assert.True(e.Exits > s.Exits, $"emulated {e.Exits} exits, split {s.Exits}");
        Assert.True(s.Exits > 0, "the split front end still exits to notify");
        Assert.Equal(0UL, p.Exits);

        // Who did the accesses: the VMM for the emulated disk, the hart straight to the device for passthrough.
        Assert.Equal(0UL, e.DirectAccesses);
        Assert.True(p.DirectAccesses >= e.Exits, $"passthrough {p.DirectAccesses} direct accesses for the emulated disk's {e.Exits} exits");
        Assert.Equal(e.Bytes, p.Bytes);
        Assert.Equal(e.Bytes, s.Bytes);
        Assert.True(s.Notifications > 0 && s.Requests > s.Notifications, $"{s.Requests} requests in {s.Notifications} notifications");
    }

    [Theory]
    [InlineData(HypervisorType.Hosted, "vmm")]
    [InlineData(HypervisorType.BareMetal, "service-vm")]
    public void TheSplitBackEndIsChargedWhereTheHostRunsIt(HypervisorType host, string backEnd)
    {
        var run = GuestRun.Run(Demo, CpuMode.TrapAndEmulate, devices: [Disk("virtio-blk0", DeviceModel.Split, 0)], hostType: host);

        var device = Device(run, "virtio-blk0");
        Assert.Equal(backEnd, device.BackEnd);
        Assert.True(device.BackEndCycles > 0);
        var serviceVm = run.Statistics.Vmm!.ServiceVmCycles;
        Assert.Equal(host == HypervisorType.BareMetal ? device.BackEndCycles : 0, serviceVm);
    }

    [Fact]
    public void WithoutAVmmEveryAccessIsDirect()
    {
        var run = GuestRun.Run(Demo, CpuMode.Native, devices: [Disk("ata0", DeviceModel.Emulated, 0), Disk("virtio-blk0", DeviceModel.Split, 0)]);

        Assert.All(run.Statistics.Devices!, d => Assert.Equal(0UL, d.Exits));
        Assert.All(run.Statistics.Devices!, d => Assert.True(d.DirectAccesses > 0, d.Name));
        Assert.Equal("device", Device(run, "virtio-blk0").BackEnd);
        Assert.Null(run.Statistics.Vmm);
    }

    [Theory]
    [InlineData(CpuMode.Native)]
    [InlineData(CpuMode.TrapAndEmulate)]
    public void DiskDataIsInTheBackingFileAfterTheVmStopsAndTheNextBootSeesIt(CpuMode mode)
    {
        var devices = new[] { Disk("virtio-blk0", DeviceModel.Split, 0), Disk("ata0", DeviceModel.Emulated, 0) };
        var first = GuestRun.Run(Demo, mode, devices: devices);
        var second = GuestRun.Run(Demo, mode, devices: devices);

        foreach (var name in new[] { "virtio-blk0", "ata0" })
        {
            var before = Checksums(first.Console, name);
            var after = Checksums(second.Console, name);
            Assert.StartsWith("gen 1 ", before, StringComparison.Ordinal);
            Assert.StartsWith("gen 2 ", after, StringComparison.Ordinal);
            // The second boot read exactly what the first one left.
            Assert.Equal(before[^8..], after.Split(' ')[3]);
            var image = File.ReadAllBytes(Path.Combine(_folder, name + ".img"));
            Assert.Equal(2, image[0]);
        }
    }

    [Fact]
    public void AnEmptyVirtioSlotIsProbedAndCountedButHoldsNoDevice()
    {
        var run = GuestRun.Run(Demo, CpuMode.TrapAndEmulate);

        Assert.Contains("done 0\n", run.Console, StringComparison.Ordinal);
        Assert.Empty(run.Statistics.Devices!);
        Assert.Contains(run.Statistics.Vmm!.Devices, d => d.Name == VmDevices.EmptyVirtioSlots && d.Exits > 0);
    }

    [Theory]
    [InlineData(CpuMode.Native)]
    [InlineData(CpuMode.TrapAndEmulate)]
    public void AVmRestoredMidTransferWithItsDisksFinishesAsTheOriginalDid(CpuMode mode)
    {
        var devices = new[] { Disk("virtio-blk0", DeviceModel.Split, 0), Disk("ata0", DeviceModel.Emulated, 0) };
        var whole = GuestRun.Run(Demo, mode, devices: [Disk("virtio-blk0", DeviceModel.Split, 0, "whole-v.img"), Disk("ata0", DeviceModel.Emulated, 0, "whole-a.img")]);
        var spec = new VmSpec(Guid.NewGuid(), "original", Demo, 1, 64, mode, CpuProfile.Riscv, mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow, null, devices);
        var original = new Transcript();
        using var execution = new GuestExecutionFactory().Boot(spec, original);
        // Two points inside the transfers: the virtio disk's, then the ATA disk's.
        var point = whole.Statistics.InstructionsRetired * 2 / 5;
        while (execution.InstructionsRetired < point)
        {
            execution.Run(point - execution.InstructionsRetired);
        }
        var capture = execution.Capture(SnapshotScope.Full);
        // Disks' contents are not in a snapshot: the clone gets copies of the files as they were then.
        var copies = devices.Select(d => d with { Disk = d.Disk! with { Path = d.Disk.Path + ".copy" } }).ToArray();
        foreach (var device in devices)
        {
            File.Copy(device.Disk!.Path, device.Disk.Path + ".copy");
        }
        var clone = new Transcript(original.Text);
        var state = SnapshotFormat.Deserialize(SnapshotFormat.Serialize(capture.State));
        using (var restored = new GuestExecutionFactory().Restore(spec with { Devices = copies }, state, capture.Pages, clone))
        {
            while (restored.Run(1_000_000).Outcome == GuestRunOutcome.SliceDone)
            {
            }
            Assert.Equal(whole.Statistics.Devices!, restored.CaptureStatistics().Devices!);
        }
        while (execution.Run(1_000_000).Outcome == GuestRunOutcome.SliceDone)
        {
        }

        Assert.Equal(whole.Console, original.Text);
        Assert.Equal(whole.Console, clone.Text);
    }

    private sealed class Transcript(string start = "") : IConsoleOutput
    {
        private readonly System.Text.StringBuilder _text = new(start);

        public string Text => _text.ToString();

        public void Write(byte value) => _text.Append((char)value);
    }
}
