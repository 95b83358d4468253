using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;
using VirtApi.TestSupport;

namespace VirtApi.Machine.Tests.Differential;

/// <summary>A test program of <c>Programs/</c>: the prelude and the program, assembled by our assembler.</summary>
internal static class GuestProgram
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Programs");

    public static byte[] Assemble(string name)
    {
        var source = Source(name);
        var result = RiscVAssembler.Assemble(source, new AssemblerOptions { FileName = name + ".S" });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    /// <summary>
    /// The ELF GNU as and ld build from <paramref name="source"/> with the assembler corpus's flags (no C
    /// in -march, so only what follows a source's <c>.option rvc</c> is compressed, as our assembler
    /// does) and the board's linker script. The source is passed by a relative name, as as records it in
    /// the symbol table, so the file does not depend on the folder. Skips without binutils.
    /// </summary>
    public static byte[] BuildWithGnu(string name, string source)
    {
        var asPath = ExternalTool.Require("riscv64-unknown-elf-as", "binutils-riscv64-unknown-elf");
        var ldPath = ExternalTool.Require("riscv64-unknown-elf-ld", "binutils-riscv64-unknown-elf");
        var work = Directory.CreateTempSubdirectory($"virtapi-{name}-gnu-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(work, name + ".S"), source);
            var obj = Path.Combine(work, name + ".o");
            var elf = Path.Combine(work, name + ".elf");
            var assembled = ExternalTool.Run(asPath, ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-mno-relax", "-o", obj, name + ".S"], TimeSpan.FromSeconds(30), work);
            Assert.True(assembled.ExitCode == 0, assembled.Stderr);
            var linked = ExternalTool.Run(ldPath, ["-T", Path.Combine(Folder, "layout.ld"), "-o", elf, obj], TimeSpan.FromSeconds(30));
            Assert.True(linked.ExitCode == 0, linked.Stderr);
            return File.ReadAllBytes(elf);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The prelude followed by the program.</summary>
    public static string Source(string name) =>
        File.ReadAllText(Path.Combine(Folder, "prelude.S")) + File.ReadAllText(Path.Combine(Folder, name + ".S"));

    /// <summary>Runs an image on a fresh board: console bytes, exit code, instructions and the stop reason.</summary>
    public static Outcome Run(byte[] elf, int harts = 1, ulong budget = 50_000_000, ulong slice = ulong.MaxValue, Action<VirtBoard>? beforeRun = null)
    {
        var board = new VirtBoard(new MachineConfig { HartCount = harts, MemoryBytes = 64UL << 20 });
        var console = new Capture();
        board.Uart.Sink = console;
        board.Load(ElfLoader.Parse(elf));
        beforeRun?.Invoke(board);
        RunResult result;
        ulong left = budget;
        do
        {
            result = board.Run(Math.Min(slice, left));
            left -= result.InstructionsRetired;
        }
        while (result.Reason == StopReason.InstructionLimit && left > 0);
        return new Outcome(console.Bytes.ToArray(), result.Reason, board.ExitCode, board.InstructionsRetired, board);
    }

    public sealed record Outcome(byte[] Console, StopReason Reason, int ExitCode, ulong Instructions, VirtBoard Board);

    private sealed class Capture : ISerialSink
    {
        public List<byte> Bytes { get; } = [];

        public void Transmit(byte value) => Bytes.Add(value);
    }
}
