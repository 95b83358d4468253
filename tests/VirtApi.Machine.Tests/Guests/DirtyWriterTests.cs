using System.Buffers.Binary;
using System.Text;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;
using VirtApi.TestSupport;
using GuestCatalog = VirtApi.Guests.GuestCatalog;
using TestPrograms = VirtApi.Machine.Tests.Differential.GuestProgram;

namespace VirtApi.Machine.Tests.Guests;

/// <summary>
/// The built-in <c>dirty-writer</c> image, the guest of the live-migration tests and benchmarks: it
/// waits idle for a console line "P W D", touches P pages at 0x8020_0000, makes W page writes with D
/// delay-loop turns after each, and prints an FNV-1a checksum of the pages. The expected checksums
/// come from the same writes simulated here; the instruction counts are exact, as time is virtual.
/// </summary>
public sealed class DirtyWriterTests
{
    private const ulong Buffer = 0x8020_0000;
    private const ulong MemoryBytes = 256UL << 20;
    private const int PageSize = 4096;
    private const string Ready = "dirty-writer: ready\n";
    private const string BadInput = "dirty-writer: bad input\n";

    // What the guest's loops cost (the source's own comments): a write is 21 + 2D instructions, touching
    // a page 4, and the checksum 5 per doubleword, 512 doublewords a page.
    private const ulong WriteInstructions = 21;
    private const ulong DelayTurnInstructions = 2;
    private const ulong TouchInstructionsPerPage = 4;
    private const ulong ChecksumInstructionsPerPage = 5 * (PageSize / 8);

    private static string Source => GuestCatalog.Find("dirty-writer")?.Source ?? throw new InvalidOperationException("dirty-writer is not in the guest catalog");

    private static readonly Lazy<byte[]> Elf = new(() =>
    {
        var result = RiscVAssembler.Assemble(Source, new AssemblerOptions { FileName = "dirty-writer.S" });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    });

    /// <summary>A 256 MiB board (QEMU's -m 256M) running the image, its console captured.</summary>
    private sealed class Guest : ISerialSink
    {
        private readonly List<byte> _console = [];

        public Guest(byte[]? elf = null, int harts = 1)
        {
            Board = new VirtBoard(new MachineConfig { HartCount = harts, MemoryBytes = MemoryBytes });
            Board.Uart.Sink = this;
            Board.Load(ElfLoader.Parse(elf ?? Elf.Value));
        }

        public VirtBoard Board { get; }

        public string Console => Encoding.ASCII.GetString([.. _console]);

        /// <summary>Called after each line the guest prints, with the line.</summary>
        public Action<string>? OnLine { get; set; }

        public void Transmit(byte value)
        {
            _console.Add(value);
            if (value == '\n' && OnLine is not null)
            {
                var text = Console;
                var start = text.LastIndexOf('\n', text.Length - 2) + 1;
                OnLine(text[start..]);
            }
        }

        public void Type(string text) => Assert.Equal(text.Length, Board.Uart.Receive(Encoding.ASCII.GetBytes(text)));

        public RunResult Run(ulong budget = 200_000_000) => Board.Run(budget);
    }

    /// <summary>The line "P W D" typed before boot, run to the end.</summary>
    private static (Guest Guest, RunResult Result) RunWith(string line)
    {
        var guest = new Guest();
        guest.Type(line);
        var result = guest.Run();
        return (guest, result);
    }

    /// <summary>The P pages after the guest's writes, simulated: its touch and write phases.</summary>
    private static byte[] Simulate(int pages, ulong writes)
    {
        var memory = new byte[pages * PageSize];
        for (var p = 0; p < pages; p++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(memory.AsSpan(p * PageSize), (ulong)p);
        }
        var s = 0x9E37_79B9_7F4A_7C15UL;
        for (ulong i = 0; i < writes; i++)
        {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            var page = (int)(i % (ulong)pages);
            var offset = (int)(i / (ulong)pages * 8 % PageSize);
            BinaryPrimitives.WriteUInt64LittleEndian(memory.AsSpan((page * PageSize) + offset), s);
        }
        return memory;
    }

    /// <summary>64-bit FNV-1a over doublewords: h = (h ^ w) * 0x100000001b3.</summary>
    private static ulong Checksum(ReadOnlySpan<byte> memory)
    {
        var h = 0xcbf2_9ce4_8422_2325UL;
        for (var at = 0; at < memory.Length; at += 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(memory[at..])) * 0x0000_0100_0000_01b3UL;
        }
        return h;
    }

    private static string Transcript(int pages, ulong writes, ulong checksum) =>
        $"{Ready}dirty-writer: touched {pages} pages\ndirty-writer: wrote {writes} pages\ndirty-writer: checksum 0x{checksum:x16}\n";

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void WithNoInput_PrintsReady_AndTheBoardGoesIdle_InWfiWithTheUartInterruptEnabled(int harts)
    {
        var guest = new Guest(harts: harts);

        var result = guest.Run();

        Assert.Equal(StopReason.Idle, result.Reason);
        Assert.InRange(result.InstructionsRetired, 1UL, 400UL);
        Assert.Equal(Ready, guest.Console);
        Assert.All(guest.Board.Harts, hart => Assert.True(hart.Waiting));
        var hart0 = guest.Board.Harts[0];
        Assert.Equal(1UL << 11, hart0.Csrs.Mie); // MEIE alone: only the PLIC can wake it
        Assert.Equal((byte)1, guest.Board.Uart.Save().Ier); // received data available
        Assert.True(guest.Board.Bus.Read(VirtBoard.PlicBase + (4 * VirtBoard.UartInterrupt), 4, out var priority) && priority > 0);
        Assert.True(guest.Board.Bus.Read(VirtBoard.PlicBase + 0x2000, 4, out var enable) && (enable & (1UL << VirtBoard.UartInterrupt)) != 0);
        Assert.True(guest.Board.Bus.Read(VirtBoard.PlicBase + 0x20_0000, 4, out var threshold) && threshold < priority);

        // Idle again, and no further, after every byte until the line is complete.
        foreach (var b in "64 1000 3")
        {
            guest.Type(b.ToString());
            var between = guest.Run();
            Assert.Equal(StopReason.Idle, between.Reason);
            Assert.InRange(between.InstructionsRetired, 1UL, 100UL);
        }
        Assert.Equal(Ready, guest.Console);
        guest.Type("\n");
        var end = guest.Run();

        Assert.Equal((StopReason.PoweredOff, 0), (end.Reason, end.ExitCode));
        Assert.Equal(Transcript(64, 1000, Checksum(Simulate(64, 1000))), guest.Console);
    }

    [Theory]
    [InlineData("64 1000 3\n", 64, 1000UL)]
    [InlineData("64 1000 3\r", 64, 1000UL)]
    [InlineData("1 0 0\n", 1, 0UL)]
    [InlineData("3 100 0\n", 3, 100UL)]
    [InlineData("0007 20000 1\n", 7, 20000UL)] // 2857 sweeps: the offset within a page wraps
    [InlineData("5 1 0\n", 5, 1UL)]
    public void Line_PrintsTheFourLines_WithTheChecksumOfTheSimulatedPages_WhichAreInRam(string line, int pages, ulong writes)
    {
        var (guest, result) = RunWith(line);

        Assert.Equal((StopReason.PoweredOff, 0), (result.Reason, result.ExitCode));
        var expected = Simulate(pages, writes);
        Assert.Equal(Transcript(pages, writes, Checksum(expected)), guest.Console);
        var ram = new byte[expected.Length + PageSize];
        guest.Board.Bus.Ram.ReadBytes(Buffer, ram);
        Assert.Equal(expected, ram[..expected.Length]);
        Assert.Null(guest.Board.Bus.Ram.FrameAt(Buffer + (ulong)expected.Length)); // nothing past the last page
    }

    [Theory]
    [InlineData("0 1 1\n")]
    [InlineData("x\n")]
    [InlineData("70000 1 1\n")]
    [InlineData("61441 1 1\n")]
    [InlineData("64 1000\n")]
    [InlineData("64\n")]
    [InlineData("\n")]
    [InlineData("64  1000 3\n")]
    [InlineData(" 64 1000 3\n")]
    [InlineData("64 1000 3 \n")]
    [InlineData("64 1000 3x\n")]
    [InlineData("64 1000 -3\n")]
    [InlineData("64 4294967297 0\n")]
    [InlineData("64 0 99999999999999999999999\n")]
    [InlineData("64\t1000 3\n")]
    public void MalformedLine_PrintsBadInput_AndExitsWithFailure(string line)
    {
        var (guest, result) = RunWith(line);

        Assert.Equal((StopReason.PoweredOff, 1), (result.Reason, result.ExitCode));
        Assert.Equal(Ready + BadInput, guest.Console);
    }

    [Fact]
    public void LargestValues_AreAccepted_AndTheTouchStartsAtTheBuffer()
    {
        var guest = new Guest();
        guest.Type("61440 4294967296 4294967296\n");

        var result = guest.Run(2_000);

        Assert.Equal(StopReason.InstructionLimit, result.Reason); // no bad input, no power-off: touching
        Assert.Equal(Ready, guest.Console);
        Assert.NotNull(guest.Board.Bus.Ram.FrameAt(Buffer));
        Assert.Equal(1UL, guest.Board.Bus.Ram.Read(Buffer + PageSize, 8));
    }

    [Fact]
    public void Image_StaysBelowTheBuffer_AtTheAddressItsSourceNames()
    {
        var image = ElfLoader.Parse(Elf.Value);

        Assert.Equal(Buffer, image.Symbols["BUFFER"]);
        Assert.All(image.Segments, s => Assert.True(s.Address + s.MemorySize <= Buffer, $"segment at 0x{s.Address:x} reaches into the buffer"));
        // 61440 pages from there end inside 256 MiB of RAM.
        Assert.True(Buffer + (61440UL * PageSize) <= VirtBoard.RamBase + MemoryBytes);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(1000, 64)]
    public void WritePhase_DirtiesOnePagePerWrite_UpToTheWorkingSet(ulong writes, int dirtied)
    {
        var guest = new Guest();
        IReadOnlyList<ulong>? written = null;
        guest.OnLine = line =>
        {
            if (line.StartsWith("dirty-writer: touched", StringComparison.Ordinal))
            {
                guest.Board.Bus.Ram.ClearDirtyFrames(); // the write phase starts with a clean log
            }
            else if (line.StartsWith("dirty-writer: wrote", StringComparison.Ordinal))
            {
                written = [.. guest.Board.Bus.Ram.TakeDirtyFrames().Where(f => f >= Buffer)];
            }
        };
        guest.Type($"64 {writes} 0\n");

        var result = guest.Run();

        Assert.Equal((StopReason.PoweredOff, 0), (result.Reason, result.ExitCode));
        Assert.NotNull(written);
        Assert.Equal(Enumerable.Range(0, dirtied).Select(p => Buffer + ((ulong)p * PageSize)), written);
    }

    private static (ulong Instructions, string Console) Measure(int pages, ulong writes, ulong delay)
    {
        var (guest, result) = RunWith($"{pages} {writes} {delay}\n");
        Assert.Equal((StopReason.PoweredOff, 0), (result.Reason, result.ExitCode));
        return (guest.Board.InstructionsRetired, guest.Console);
    }

    [Theory]
    [InlineData(0UL, 5UL)]
    [InlineData(3UL, 7UL)]
    [InlineData(10UL, 40UL)]
    public void EachWrite_Costs21Plus2DInstructions_AndTheDelayLeavesTheOutput(ulong delay, ulong moreDelay)
    {
        // Counts with the same number of digits in the line and in the output, so that only the loops differ.
        var few = Measure(64, 10_000, delay);
        var more = Measure(64, 20_000, delay);
        var slower = Measure(64, 10_000, moreDelay);

        Assert.Equal(10_000 * (WriteInstructions + (DelayTurnInstructions * delay)), more.Instructions - few.Instructions);
        Assert.Equal(10_000 * DelayTurnInstructions * (moreDelay - delay), slower.Instructions - few.Instructions);
        Assert.Equal(few.Console, slower.Console);
        Assert.Equal(Transcript(64, 10_000, Checksum(Simulate(64, 10_000))), few.Console);
    }

    [Fact]
    public void EachPage_CostsItsTouchAndItsChecksum()
    {
        var small = Measure(100, 0, 0);
        var large = Measure(200, 0, 0);

        Assert.Equal(100 * (TouchInstructionsPerPage + ChecksumInstructionsPerPage), large.Instructions - small.Instructions);
    }

    [SkippableFact]
    public void BuiltByGnuAsAndLd_LoadsTheSameBytes_AndRunsTheSame()
    {
        var gnuElf = TestPrograms.BuildWithGnu("dirty-writer", Source);

        var ours = ElfLoader.Parse(Elf.Value);
        var gnu = ElfLoader.Parse(gnuElf);
        Assert.Equal(ours.Entry, gnu.Entry);
        Assert.Equal(Loaded(ours), Loaded(gnu));

        var gnuGuest = new Guest(gnuElf);
        gnuGuest.Type("64 1000 3\n");
        var gnuResult = gnuGuest.Run();
        var (ourGuest, ourResult) = RunWith("64 1000 3\n");
        Assert.Equal((StopReason.PoweredOff, 0), (gnuResult.Reason, gnuResult.ExitCode));
        Assert.Equal(ourGuest.Console, gnuGuest.Console);
        Assert.Equal(ourResult.InstructionsRetired, gnuResult.InstructionsRetired);
    }

    /// <summary>RAM from its base as the image leaves it once loaded: file bytes, zeros up to each segment's memory size.</summary>
    private static byte[] Loaded(ElfImage image)
    {
        var end = image.Segments.Max(s => s.Address + s.MemorySize);
        var ram = new byte[end - VirtBoard.RamBase];
        foreach (var segment in image.Segments)
        {
            segment.Data.CopyTo(ram, (int)(segment.Address - VirtBoard.RamBase));
        }
        return ram;
    }

    [SkippableTheory]
    [InlineData("64 1000 3\n", 0)]
    [InlineData("0 1 1\n", 1)]
    public void UnderQemu_FedTheLineOnStdin_PrintsWhatThisBoardPrints(string line, int exitCode)
    {
        var qemu = ExternalTool.Require("qemu-system-riscv64", "qemu-system-misc");
        var (guest, result) = RunWith(line);
        Assert.Equal((StopReason.PoweredOff, exitCode), (result.Reason, result.ExitCode));
        var work = Directory.CreateTempSubdirectory("virtapi-dirty-writer-").FullName;
        try
        {
            var elf = Path.Combine(work, "dirty-writer.elf");
            File.WriteAllBytes(elf, Elf.Value);
            var run = ExternalTool.Run(
                qemu,
                ["-machine", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio", "-m", "256M", "-kernel", elf],
                TimeSpan.FromSeconds(60),
                input: Encoding.ASCII.GetBytes(line));
            Assert.False(run.TimedOut, "QEMU did not finish dirty-writer:\n" + Encoding.ASCII.GetString(run.Stdout));
            Assert.True(run.ExitCode == exitCode, $"exit code {run.ExitCode}: {run.Stderr}");
            Assert.Equal(guest.Console, Encoding.ASCII.GetString(run.Stdout));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
