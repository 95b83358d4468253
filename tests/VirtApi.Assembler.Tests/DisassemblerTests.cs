using System.Text.RegularExpressions;
using VirtApi.TestSupport;

namespace VirtApi.Assembler.Tests;

/// <summary>
/// The disassembler against <c>riscv64-unknown-elf-objdump -d</c> (aliases) and <c>-M no-aliases</c>
/// on the corpus, and disassemble-then-assemble giving the same bytes.
/// </summary>
public sealed partial class DisassemblerTests
{
    private static readonly string CorpusFolder = Path.Combine(AppContext.BaseDirectory, "Corpus");

    private static (byte[] Text, ulong Address) Text(string name)
    {
        var result = RiscVAssembler.Assemble(File.ReadAllText(Path.Combine(CorpusFolder, name + ".S")));
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var text = ElfSections.Read(result.Elf).Single(s => s.Name == ".text");
        return (text.Bytes, text.Address);
    }

    private static List<(ulong Pc, string Text)> Ours(byte[] code, ulong address, bool aliases = false)
    {
        var lines = new List<(ulong, string)>();
        for (var offset = 0; offset < code.Length;)
        {
            var text = Disassembler.Disassemble(code.AsSpan(offset), address + (ulong)offset, out var length, aliases);
            lines.Add((address + (ulong)offset, text));
            offset += length;
        }
        return lines;
    }

    [SkippableTheory]
    [InlineData("base", false)]
    [InlineData("pseudo", false)]
    [InlineData("compressed", false)]
    [InlineData("base", true)]
    [InlineData("pseudo", true)]
    [InlineData("compressed", true)]
    public void Disassembly_MatchesObjdump(string name, bool aliases)
    {
        var objdump = ExternalTool.Require("riscv64-unknown-elf-objdump", "binutils-riscv64-unknown-elf");
        var result = RiscVAssembler.Assemble(File.ReadAllText(Path.Combine(CorpusFolder, name + ".S")));
        var work = Directory.CreateTempSubdirectory("virtapi-objdump-").FullName;
        try
        {
            var elf = Path.Combine(work, name + ".elf");
            File.WriteAllBytes(elf, result.Elf);
            string[] arguments = aliases ? ["-d", "-j", ".text", elf] : ["-d", "-M", "no-aliases", "-j", ".text", elf];
            var run = ExternalTool.Run(objdump, arguments, TimeSpan.FromSeconds(30));
            Assert.Equal(0, run.ExitCode);
            var expected = new Dictionary<ulong, string>();
            foreach (Match line in ObjdumpLine().Matches(System.Text.Encoding.ASCII.GetString(run.Stdout)))
            {
                // objdump appends "# comment" for some operands; drop it and the symbol after targets.
                var text = line.Groups["text"].Value.Split('#')[0].Trim();
                text = SymbolSuffix().Replace(text, "");
                expected[Convert.ToUInt64(line.Groups["pc"].Value, 16)] = text;
            }
            var (code, address) = Text(name);
            foreach (var (pc, text) in Ours(code, address, aliases))
            {
                Assert.True(expected.TryGetValue(pc, out var want), $"objdump has no instruction at {pc:x}");
                Assert.True(want == text, $"{pc:x}: objdump '{want}', ours '{text}'");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Theory]
    [InlineData("base")]
    [InlineData("pseudo")]
    [InlineData("compressed")]
    public void DisassembleThenAssemble_GivesTheSameBytes(string name)
    {
        var (code, address) = Text(name);
        // Branch and jump targets come out as absolute addresses: assemble each line at its own address.
        foreach (var (pc, text) in Ours(code, address))
        {
            var line = AbsoluteTarget().Replace(text.Replace('\t', ' '), m => $"{m.Groups[1].Value}0x{m.Groups[2].Value}");
            // A 16-bit instruction needs the C extension on; a 32-bit one must not be compressed.
            var option = line.StartsWith("c.", StringComparison.Ordinal) ? "    .option rvc\n" : "";
            var reassembled = RiscVAssembler.Assemble($"{option}.globl _start\n_start:\n    {line}\n", new AssemblerOptions { BaseAddress = pc });
            Assert.True(reassembled.Succeeded, $"{pc:x}: '{line}': {string.Join("; ", reassembled.Errors)}");
            var bytes = ElfSections.Read(reassembled.Elf).Single(s => s.Name == ".text").Bytes;
            var length = text.StartsWith("c.", StringComparison.Ordinal) ? 2 : 4;
            Assert.True(bytes.Length >= length, $"{pc:x}: '{line}' assembled to {bytes.Length} bytes");
            Assert.Equal(code.AsSpan((int)(pc - address), length).ToArray(), bytes.AsSpan(0, length).ToArray());
        }
    }

    // The raw bytes column is 8 hex digits for a 32-bit instruction and 4 for a 16-bit one.
    [GeneratedRegex(@"^\s*(?<pc>[0-9a-f]+):\s+(?:[0-9a-f]{8}|[0-9a-f]{4})\s+(?<text>[^\n]+)$", RegexOptions.Multiline)]
    private static partial Regex ObjdumpLine();

    [GeneratedRegex(@"\s*<[^>]+>$")]
    private static partial Regex SymbolSuffix();

    // "jal ra,80000010" / "beq a0,a1,80000004" / "c.j 80000010": the last operand of a branch or jump is a bare hex address.
    [GeneratedRegex(@"^((?:jal (?:[a-z0-9]+,)|(?:beq|bne|blt|bge|bltu|bgeu) (?:[a-z0-9]+,){2}|c\.j |c\.beqz [a-z0-9]+,|c\.bnez [a-z0-9]+,))([0-9a-f]+)$")]
    private static partial Regex AbsoluteTarget();
}
