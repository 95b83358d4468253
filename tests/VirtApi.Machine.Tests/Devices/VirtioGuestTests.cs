using System.Text;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Tests.Differential;
using VirtApi.Machine.Tests.State;
using VirtApi.TestSupport;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>
/// <c>Programs/virtio-blk.S</c>, a minimal virtio-blk driver, on a board with a virtio-blk device in
/// slot 0 (registered here; the board does not wire devices itself yet), and under QEMU with the same
/// disk. <c>virtio-blk.qemu-output</c> holds what QEMU printed. The program is not one of the
/// <c>.expected</c> programs of <see cref="QemuDifferentialTests"/>: those run on a bare board and a
/// bare QEMU, where slot 0 has no disk.
/// </summary>
public sealed class VirtioGuestTests
{
    private const string Program = "virtio-blk";
    private const ulong DiskSectors = 128;
    private const string Serial = "virtapi-disk";

    private static byte[] Expected => File.ReadAllBytes(Path.Combine(GuestProgram.Folder, Program + ".qemu-output"));

    /// <summary>Registers a virtio-blk over <paramref name="store"/> in slot 0 of <paramref name="board"/>.</summary>
    private static VirtioMmioTransport AttachDisk(VirtBoard board, IBlockStore store)
    {
        var transport = new VirtioMmioTransport(
            new VirtioBlock(store, Serial),
            new RamGuestMemory(board.Bus.Ram),
            board.Plic.Source(DeviceSlots.VirtioInterrupt(0)));
        board.Bus.Register(DeviceSlots.Virtio(0), transport);
        return transport;
    }

    private static (GuestProgram.Outcome Outcome, VirtioMmioTransport Transport, MemoryBlockStore Store) Run(ulong slice = ulong.MaxValue)
    {
        var store = BlockRequest.PatternDisk(DiskSectors);
        VirtioMmioTransport? transport = null;
        var outcome = GuestProgram.Run(GuestProgram.Assemble(Program), slice: slice, beforeRun: board => transport = AttachDisk(board, store));
        return (outcome, transport!, store);
    }

    [Fact]
    public void VirtioBlkDriver_WritesReadsBackAndIdentifiesTheDisk_PrintingWhatQemuPrinted()
    {
        var (outcome, transport, store) = Run();

        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(Encoding.ASCII.GetString(Expected), Encoding.ASCII.GetString(outcome.Console));
        var sectors = new byte[1024];
        Assert.True(store.TryRead(2, sectors));
        Assert.Equal(Enumerable.Range(0, 1024).Select(i => (byte)((13 * i) + 7)), sectors);
        Assert.Equal(1UL, store.Flushes);
        // Three batches, one notification each: 2 writes; a flush; 2 reads, GET_ID, a bad read, a bad type.
        var counters = transport.Counters;
        Assert.Equal(3UL, counters.Notifications);
        Assert.Equal(3UL, counters.Batches);
        Assert.Equal(8UL, counters.Requests);
        Assert.Equal(1024UL + 1024 + 512 + 20, counters.BytesTransferred);
        Assert.Equal(0UL, counters.DeviceErrors);
        // Each batch completes during its notify write, so the guest never waits in wfi: the line rises
        // once and stays high until the final acknowledgement.
        Assert.Equal(1UL, counters.InterruptsRaised);
        Assert.Equal(0u, transport.InterruptStatus);
    }

    [Fact]
    public void VirtioBlkDriver_RunsIdentically_HoweverTheRunIsSliced()
    {
        var whole = Run();
        var sliced = Run(slice: 97);
        Assert.Equal(whole.Outcome.Console, sliced.Outcome.Console);
        Assert.Equal(whole.Outcome.Instructions, sliced.Outcome.Instructions);
        Assert.Equivalent(whole.Transport.Counters.Save(), sliced.Transport.Counters.Save(), strict: true);
    }

    [Fact]
    public void VirtioBlkDriver_SnapshottedMidRun_FinishesAsTheUnbrokenRun()
    {
        var whole = Run();

        // Run until the first batch is done and the second not begun, then save the board (with RAM)
        // and the transport; the disk's sectors stay in the store.
        var store = BlockRequest.PatternDisk(DiskSectors);
        var machine = TestMachine.Boot(GuestProgram.Assemble(Program));
        var transport = AttachDisk(machine.Board, store);
        while (transport.Counters.Batches == 0)
        {
            Assert.Equal(StopReason.InstructionLimit, machine.Board.Run(50).Reason);
        }
        Assert.Equal(2UL, transport.Counters.Requests);
        Assert.NotEqual(0u, transport.InterruptStatus); // a notification not yet acknowledged travels too
        var boardJson = machine.Save();
        var transportJson = System.Text.Json.JsonSerializer.Serialize(transport.Save(), SavedMachine.Json);
        var consoleSoFar = machine.Console.ToArray();

        var restored = TestMachine.Restore(TestMachine.OneHart, boardJson);
        var restoredTransport = VirtioMmioTransport.Restore(
            new VirtioMmioArgs(new VirtioBlock(store, Serial), new RamGuestMemory(restored.Board.Bus.Ram), restored.Board.Plic.Source(DeviceSlots.VirtioInterrupt(0))),
            System.Text.Json.JsonSerializer.Deserialize<VirtioMmioState>(transportJson, SavedMachine.Json)!);
        restored.Board.Bus.Register(DeviceSlots.Virtio(0), restoredTransport);
        var result = restored.RunToEnd();

        Assert.Equal(StopReason.PoweredOff, result.Reason);
        Assert.Equal(whole.Outcome.Console, consoleSoFar.Concat(restored.Console).ToArray());
        Assert.Equal(whole.Outcome.Instructions, restored.Board.InstructionsRetired);
        Assert.Equivalent(whole.Transport.Counters.Save(), restoredTransport.Counters.Save(), strict: true);
    }

    [SkippableFact]
    public void VirtioBlkDriver_UnderQemuLive_PrintsTheExpectedBytes()
    {
        var qemu = ExternalTool.Require("qemu-system-riscv64", "qemu-system-misc");
        var work = Directory.CreateTempSubdirectory("virtapi-virtio-").FullName;
        try
        {
            var elf = Path.Combine(work, Program + ".elf");
            File.WriteAllBytes(elf, GuestProgram.Assemble(Program));
            var disk = Path.Combine(work, "disk.img");
            var image = new byte[DiskSectors * 512];
            Assert.True(BlockRequest.PatternDisk(DiskSectors).TryRead(0, image));
            File.WriteAllBytes(disk, image);
            var run = ExternalTool.Run(
                qemu,
                [
                    "-machine", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", elf,
                    "-global", "virtio-mmio.force-legacy=false",
                    "-drive", $"file={disk},if=none,format=raw,id=d0",
                    "-device", $"virtio-blk-device,drive=d0,serial={Serial},bus=virtio-mmio-bus.0",
                ],
                TimeSpan.FromSeconds(60));
            Assert.False(run.TimedOut, "QEMU did not finish " + Program);
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal(Encoding.ASCII.GetString(Expected), Encoding.ASCII.GetString(run.Stdout));
            var written = File.ReadAllBytes(disk).AsSpan(1024, 1024).ToArray();
            Assert.Equal(Enumerable.Range(0, 1024).Select(i => (byte)((13 * i) + 7)), written);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
