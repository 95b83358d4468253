using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Ata;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;
using VirtApi.TestSupport;
using GuestCatalog = VirtApi.Guests.GuestCatalog;
using GuestProgram = VirtApi.Machine.Tests.Differential.GuestProgram;

namespace VirtApi.Machine.Tests.Guests;

/// <summary>
/// The built-in <c>demo-devices</c> image: it finds virtio-blk disks in the virtio-mmio slots and ATA
/// disks in the legacy slots, then reads, rewrites and reads back the first DEMO_SECTORS sectors of
/// each. Real devices on a real board, registered here on its bus; the stores outlive the runs, as a
/// VM's disks outlive its boots. DEMO_SECTORS is read from the source, so a benchmark that raises it
/// leaves these tests true.
/// </summary>
public sealed partial class DemoDevicesTests
{
    private static string Source => GuestCatalog.Find("demo-devices")?.Source ?? throw new InvalidOperationException("demo-devices is not in the guest catalog");

    private static readonly Lazy<byte[]> Elf = new(() =>
    {
        var result = RiscVAssembler.Assemble(Source, new AssemblerOptions { FileName = "demo-devices.S" });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    });

    /// <summary>DEMO_SECTORS: the sectors each disk is tested over.</summary>
    private static int Sectors => int.Parse(SectorsEquate().Match(Source).Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\s*\.equ DEMO_SECTORS, (\d+)", RegexOptions.Multiline)]
    private static partial Regex SectorsEquate();

    private static GuestProgram.Outcome Run(Action<VirtBoard> attach, int harts = 1)
    {
        var outcome = GuestProgram.Run(Elf.Value, harts, budget: 500_000_000, beforeRun: attach);
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(0, outcome.ExitCode);
        return outcome;
    }

    private static string Text(GuestProgram.Outcome outcome) => Encoding.ASCII.GetString(outcome.Console);

    private static AtaController AttachAta(VirtBoard board, IBlockStore store, int slot = 0)
    {
        var ata = new AtaController(board.Plic.Source(DeviceSlots.LegacyInterrupt(slot)), store);
        board.Bus.Register(DeviceSlots.Legacy(slot), ata);
        return ata;
    }

    private static VirtioMmioTransport AttachVirtio(VirtBoard board, IBlockStore store, int slot = 0)
    {
        var transport = new VirtioMmioTransport(new VirtioBlock(store), new RamGuestMemory(board.Bus.Ram), board.Plic.Source(DeviceSlots.VirtioInterrupt(slot)));
        board.Bus.Register(DeviceSlots.Virtio(slot), transport);
        return transport;
    }

    /// <summary>FNV-1a, 32-bit.</summary>
    private static uint Fnv(ReadOnlySpan<byte> bytes)
    {
        var hash = 0x811c_9dc5u;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 0x0100_0193u;
        }
        return hash;
    }

    /// <summary>What generation <paramref name="g"/> writes: sector s, byte i = (g + 31s + 7i) mod 256.</summary>
    private static byte[] Pattern(int g)
    {
        var data = new byte[Sectors * IBlockStore.SectorSize];
        for (var s = 0; s < Sectors; s++)
        {
            for (var i = 0; i < IBlockStore.SectorSize; i++)
            {
                data[(s * IBlockStore.SectorSize) + i] = (byte)(g + (s * 31) + (i * 7));
            }
        }
        return data;
    }

    private static byte[] Contents(MemoryBlockStore store)
    {
        var data = new byte[Sectors * IBlockStore.SectorSize];
        Assert.True(store.TryRead(0, data));
        return data;
    }

    private static string Line(string name, int g, uint before, uint after) => $"{name}: gen {g} before {before:x8} after {after:x8}\n";

    [Fact]
    public void FreshDisks_OnVirtioAndAta_PrintGeneration1_TheChecksumOfZeros_AndTheSameAfter()
    {
        var virtioStore = new MemoryBlockStore((ulong)Sectors);
        var ataStore = new MemoryBlockStore((ulong)Sectors);
        VirtioMmioTransport? virtio = null;
        AtaController? ata = null;

        var outcome = Run(board =>
        {
            virtio = AttachVirtio(board, virtioStore);
            ata = AttachAta(board, ataStore);
        });

        var before = Fnv(new byte[Sectors * IBlockStore.SectorSize]);
        var after = Fnv(Pattern(1));
        Assert.Equal($"demo-devices\n{Line("virtio-blk0", 1, before, after)}{Line("ata0", 1, before, after)}done 2\n", Text(outcome));
        Assert.Equal(Pattern(1), Contents(virtioStore));
        Assert.Equal(Pattern(1), Contents(ataStore));
        Assert.Equal((1UL, 1UL), (virtioStore.Flushes, ataStore.Flushes));

        // 8 sectors a request or command; virtio takes up to 8 requests per notification (a pass of
        // 64 sectors) and a flush of its own: read, write, flush, read.
        var chunks = (ulong)Sectors / 8;
        var passes = ((ulong)Sectors + 63) / 64;
        Assert.NotNull(virtio);
        Assert.Equal((3 * passes) + 1, virtio.Counters.Notifications);
        Assert.Equal((3 * chunks) + 1, virtio.Counters.Requests);
        Assert.Equal(3UL * (ulong)Sectors * IBlockStore.SectorSize, virtio.Counters.BytesTransferred);
        Assert.Equal(0UL, virtio.Counters.DeviceErrors);
        Assert.Equal(0UL, virtio.Counters.InterruptsRaised); // polled, with avail.flags asking for no interrupts
        Assert.NotNull(ata);
        Assert.Equal((3 * chunks) + 1, ata.Counters.Commands);
        Assert.Equal(3UL * (ulong)Sectors * IBlockStore.SectorSize, ata.Counters.BytesTransferred);
        Assert.Equal(0UL, ata.Counters.DeviceErrors);
        Assert.Equal(0UL, ata.Counters.InterruptsRaised); // polled, with nIEN set
    }

    [Fact]
    public void SecondRun_OverTheSameDisks_PrintsGeneration2_WhoseBeforeIsTheFirstRunsAfter()
    {
        var virtioStore = new MemoryBlockStore((ulong)Sectors);
        var ataStore = new MemoryBlockStore((ulong)Sectors);
        void Attach(VirtBoard board)
        {
            AttachVirtio(board, virtioStore);
            AttachAta(board, ataStore);
        }

        Run(Attach);
        var second = Run(Attach);

        var first = Fnv(Pattern(1));
        var after = Fnv(Pattern(2));
        Assert.Equal($"demo-devices\n{Line("virtio-blk0", 2, first, after)}{Line("ata0", 2, first, after)}done 2\n", Text(second));
        Assert.Equal(Pattern(2), Contents(virtioStore));
        Assert.Equal(Pattern(2), Contents(ataStore));
    }

    [Fact]
    public void Generation_WrapsFrom255To0()
    {
        var store = new MemoryBlockStore((ulong)Sectors);
        var old = Pattern(255);
        Assert.True(store.TryWrite(0, old));

        var outcome = Run(board => AttachAta(board, store, slot: 3));

        Assert.Equal($"demo-devices\n{Line("ata3", 0, Fnv(old), Fnv(Pattern(0)))}done 1\n", Text(outcome));
    }

    [Fact]
    public void NoDisks_PrintsDone0()
    {
        var outcome = Run(_ => { });

        Assert.Equal("demo-devices\ndone 0\n", Text(outcome));
    }

    [Fact]
    public void OnFourHarts_OnlyHart0Runs_AndPrintsWhatOneHartPrints()
    {
        var store = new MemoryBlockStore((ulong)Sectors);
        var one = Text(Run(board => AttachAta(board, new MemoryBlockStore((ulong)Sectors))));

        var four = Run(board => AttachAta(board, store), harts: 4);

        Assert.Equal(one, Text(four));
        Assert.All(four.Board.Harts.Skip(1), hart => Assert.True(hart.Counters.RetiredByPrivilege[3] < 10, "a hart other than 0 did more than park"));
    }

    /// <summary>Looks like a virtio-blk to the probe (magic, version 2, DeviceID 2) and refuses every other access.</summary>
    private sealed class ProbeOnlyDevice : IMmioDevice
    {
        public bool Read(ulong offset, int size, out ulong value)
        {
            value = (offset, size) switch
            {
                (0, 4) => VirtioMmioTransport.MagicValue,
                (4, 4) => 2,
                (8, 4) => VirtioBlock.Id,
                _ => 0,
            };
            return offset <= 8 && size == 4;
        }

        public bool Write(ulong offset, int size, ulong value) => false;
    }

    [Fact]
    public void AccessFaultOutsideTheProbes_PrintsTheTrap_AndPowersOffWithFailure()
    {
        var outcome = GuestProgram.Run(Elf.Value, budget: 10_000_000, beforeRun: board => board.Bus.Register(DeviceSlots.Virtio(0), new ProbeOnlyDevice()));

        Assert.Equal("demo-devices\ntrap 7\n", Text(outcome)); // the reset's store to Status: a store access fault
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(1, outcome.ExitCode);
    }

    [Fact]
    public void A16550InALegacySlot_IsNotTakenForAnAtaDisk()
    {
        var outcome = Run(board => board.Bus.Register(DeviceSlots.Legacy(1), new Uart16550(board.Plic.Source(DeviceSlots.LegacyInterrupt(1)))));

        Assert.Equal("demo-devices\ndone 0\n", Text(outcome));
    }

    [Fact]
    public void VirtioSlotWithAnotherDeviceType_IsNotTakenForADisk()
    {
        var outcome = Run(board =>
            board.Bus.Register(DeviceSlots.Virtio(2), new VirtioMmioTransport(new VirtioConsole(), new RamGuestMemory(board.Bus.Ram), board.Plic.Source(DeviceSlots.VirtioInterrupt(2)))));

        Assert.Equal("demo-devices\ndone 0\n", Text(outcome));
    }

    [Fact]
    public void DiskSmallerThanTheTest_PrintsAnErrorForIt_AndTheOtherDisksAreTested()
    {
        var small = (ulong)Sectors / 2;
        var smallVirtio = new MemoryBlockStore(small);
        var smallAta = new MemoryBlockStore(small);
        var virtioStore = new MemoryBlockStore((ulong)Sectors);
        var ataStore = new MemoryBlockStore((ulong)Sectors);
        AtaController? smallAtaController = null;

        var outcome = Run(board =>
        {
            AttachVirtio(board, smallVirtio, slot: 0);
            AttachVirtio(board, virtioStore, slot: 5);
            smallAtaController = AttachAta(board, smallAta, slot: 0);
            AttachAta(board, ataStore, slot: 2);
        });

        var before = Fnv(new byte[Sectors * IBlockStore.SectorSize]);
        var after = Fnv(Pattern(1));
        Assert.Equal(
            $"demo-devices\nvirtio-blk0: error\n{Line("virtio-blk5", 1, before, after)}ata0: error\n{Line("ata2", 1, before, after)}done 4\n",
            Text(outcome));
        // The reads failed before anything was written.
        Assert.Equal((0, 0), (smallVirtio.ChunksTouched, smallAta.ChunksTouched));
        Assert.NotNull(smallAtaController);
        Assert.Equal(1UL, smallAtaController.Counters.DeviceErrors); // IDNF for the command past the end
    }

    [SkippableFact]
    public void UnderQemu_WithOneVirtioBlkDrive_PrintsWhatThisBoardPrints()
    {
        var qemu = ExternalTool.Require("qemu-system-riscv64", "qemu-system-misc");
        var store = new MemoryBlockStore((ulong)Sectors);
        var ours = Text(Run(board => AttachVirtio(board, store)));
        var work = Directory.CreateTempSubdirectory("virtapi-demo-devices-").FullName;
        try
        {
            var elf = Path.Combine(work, "demo-devices.elf");
            File.WriteAllBytes(elf, Elf.Value);
            var disk = Path.Combine(work, "disk.img");
            File.WriteAllBytes(disk, new byte[Sectors * IBlockStore.SectorSize]);
            var run = ExternalTool.Run(
                qemu,
                [
                    "-machine", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", elf,
                    "-global", "virtio-mmio.force-legacy=false",
                    "-drive", $"file={disk},if=none,format=raw,id=d0",
                    "-device", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0",
                ],
                TimeSpan.FromSeconds(60));
            Assert.False(run.TimedOut, "QEMU did not finish demo-devices");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal(ours, Encoding.ASCII.GetString(run.Stdout));
            Assert.Equal(Pattern(1), File.ReadAllBytes(disk));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
