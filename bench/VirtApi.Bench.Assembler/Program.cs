// Assembler benchmark (issue 3): assemble a generated 100,000-line program (a mix of ALU, memory,
// branch, pseudo-instruction, label and data lines) five times, without and with .option rvc;
// print the median times and the peak working set. Reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Assembler
using System.Diagnostics;
using System.Globalization;
using System.Text;
using VirtApi.Assembler;

const int Lines = 100_000;
var source = new StringBuilder();
source.AppendLine(".globl _start").AppendLine("_start:");
var written = 2;
for (var block = 0; written < Lines; block++)
{
    source.AppendLine(CultureInfo.InvariantCulture, $"L{block}:");
    source.AppendLine(CultureInfo.InvariantCulture, $"    addi a0, a0, {block % 2048}");
    source.AppendLine("    add a1, a0, a2");
    source.AppendLine(CultureInfo.InvariantCulture, $"    li t0, {block * 7919L}");
    source.AppendLine("    ld t1, 8(sp)");
    source.AppendLine("    sd t1, 16(sp)");
    source.AppendLine(CultureInfo.InvariantCulture, $"    beq a0, a1, L{Math.Max(0, block - 1)}");
    source.AppendLine(CultureInfo.InvariantCulture, $"    bnez t1, 1f");
    source.AppendLine("1:  mul a2, a1, a0");
    source.AppendLine(CultureInfo.InvariantCulture, $"    la a3, L{block}");
    written += 10;
}
var text = source.ToString();
// The same program under .option rvc: most lines compress and the branches relax, so the layout
// takes several passes (see docs/decisions.md, 8).
foreach (var (label, program) in new[] { ("", text), (" under .option rvc", ".option rvc\n" + text) })
{
    var times = new List<double>();
    AssemblyResult? result = null;
    for (var run = 0; run < 5; run++)
    {
        var stopwatch = Stopwatch.StartNew();
        result = RiscVAssembler.Assemble(program, new AssemblerOptions { MaxSourceBytes = 64 << 20 });
        stopwatch.Stop();
        times.Add(stopwatch.Elapsed.TotalMilliseconds);
    }
    if (!result!.Succeeded)
    {
        Console.Error.WriteLine(string.Join("\n", result.Errors.Take(5)));
        return 1;
    }
    times.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"assembled {written} lines{label} ({program.Length / 1024} KiB of source, {result.Elf.Length / 1024} KiB of ELF): median {times[2]:F0} ms, best {times[0]:F0} ms of 5"));
}
using var process = Process.GetCurrentProcess();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak working set {process.PeakWorkingSet64 / (1 << 20)} MiB"));
Console.WriteLine("reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Assembler");
return 0;
