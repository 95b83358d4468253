// virtapi run IMAGE [--harts N] [--memory MIB] [--max-instructions N] [--trace]
// virtapi assemble SOURCE.S OUTPUT.elf
// Runs a bare-metal RISC-V image (ELF, or assembly assembled on the fly) on the QEMU-virt-compatible
// machine. The guest's console goes to stdout byte for byte; the summary goes to stderr; the exit code
// is the guest's (test finisher or HTIF), 124 when the instruction limit ended the run, 125 when a
// hart got stuck trapping, 126 when every hart waits for ever, 2 for a bad image, 64 for bad usage.
using System.Diagnostics;
using System.Globalization;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;

const string Usage = "usage: virtapi run IMAGE [--harts N] [--memory MIB] [--max-instructions N] [--trace]\n       virtapi assemble SOURCE.S OUTPUT.elf";

if (args.Length == 3 && args[0] == "assemble")
{
    var assembledFile = RiscVAssembler.Assemble(File.ReadAllText(args[1]), new AssemblerOptions { FileName = Path.GetFileName(args[1]) });
    foreach (var error in assembledFile.Errors)
    {
        Console.Error.WriteLine($"{args[1]}:{error.Line}:{error.Column}: {error.Message}");
    }
    if (assembledFile.Succeeded)
    {
        File.WriteAllBytes(args[2], assembledFile.Elf);
    }
    return assembledFile.Succeeded ? 0 : 2;
}
if (args.Length < 2 || args[0] != "run")
{
    Console.Error.WriteLine(Usage);
    return 64;
}
var path = args[1];
var harts = 1;
var memoryMiB = 128UL;
var maxInstructions = ulong.MaxValue;
var trace = false;
for (var i = 2; i < args.Length; i++)
{
    bool ok;
    switch (args[i])
    {
        case "--harts" when i + 1 < args.Length:
            ok = int.TryParse(args[++i], CultureInfo.InvariantCulture, out harts) && harts is >= 1 and <= 8;
            break;
        case "--memory" when i + 1 < args.Length:
            ok = ulong.TryParse(args[++i], CultureInfo.InvariantCulture, out memoryMiB) && memoryMiB is >= 1 and <= 65536;
            break;
        case "--max-instructions" when i + 1 < args.Length:
            ok = ulong.TryParse(args[++i], CultureInfo.InvariantCulture, out maxInstructions) && maxInstructions > 0;
            break;
        case "--trace":
            trace = true;
            ok = true;
            break;
        default:
            ok = false;
            break;
    }
    if (!ok)
    {
        Console.Error.WriteLine($"virtapi: bad argument '{args[i]}'");
        Console.Error.WriteLine(Usage);
        return 64;
    }
}
if (!File.Exists(path))
{
    Console.Error.WriteLine($"virtapi: {path}: no such file");
    return 2;
}

byte[] elf;
if (Path.GetExtension(path) is ".S" or ".s" or ".asm")
{
    var assembled = RiscVAssembler.Assemble(File.ReadAllText(path), new AssemblerOptions { FileName = Path.GetFileName(path) });
    if (!assembled.Succeeded)
    {
        foreach (var error in assembled.Errors)
        {
            Console.Error.WriteLine($"{path}:{error.Line}:{error.Column}: {error.Message}");
        }
        return 2;
    }
    elf = assembled.Elf;
}
else
{
    elf = File.ReadAllBytes(path);
}

VirtBoard board;
try
{
    board = new VirtBoard(new MachineConfig { HartCount = harts, MemoryBytes = memoryMiB << 20 });
    board.Load(ElfLoader.Parse(elf));
}
catch (ElfFormatException e)
{
    Console.Error.WriteLine($"virtapi: {path}: {e.Message}");
    return 2;
}

using var stdout = Console.OpenStandardOutput();
using var console = new ConsoleSink(stdout);
board.Uart.Sink = console;
if (trace)
{
    foreach (var hart in board.Harts)
    {
        hart.Trace = (h, pc, bits, privilege) =>
        {
            Span<byte> code = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(code, bits);
            Console.Error.WriteLine($"[hart {h.Id} {privilege.ToString()[0]}] {pc:x16}: {bits:x8}  {Disassembler.Disassemble(code, pc, out _)}");
        };
    }
}

var stopwatch = Stopwatch.StartNew();
var result = board.Run(maxInstructions);
stopwatch.Stop();
console.Flush();

var seconds = stopwatch.Elapsed.TotalSeconds;
var mips = board.InstructionsRetired / Math.Max(seconds, 1e-9) / 1e6;
var (status, code) = result.Reason switch
{
    StopReason.PoweredOff => ($"powered off, exit code {result.ExitCode}", result.ExitCode),
    StopReason.InstructionLimit => ($"instruction limit of {maxInstructions} reached", 124),
    StopReason.Stuck => ($"stuck: hart keeps trapping with no handler (last cause 0x{board.Harts.First(h => h.Stuck).LastTrap.Cause:x}, tval 0x{board.Harts.First(h => h.Stuck).LastTrap.Tval:x})", 125),
    StopReason.Idle => ("idle: every hart waits for an interrupt nothing will raise", 126),
    _ => ("reset requested", 0),
};
Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"virtapi: {status}; {board.InstructionsRetired} instructions in {seconds:F3} s = {mips:F1} MIPS"));
return code;

/// <summary>Buffers the guest's console bytes for stdout, unchanged.</summary>
internal sealed class ConsoleSink(Stream output) : ISerialSink, IDisposable
{
    private readonly BufferedStream _buffer = new(output, 1 << 16);

    public void Transmit(byte value) => _buffer.WriteByte(value);

    public void Flush() => _buffer.Flush();

    public void Dispose() => _buffer.Dispose();
}
