using VirtApi.TestSupport;

namespace VirtApi.Assembler.Tests;

/// <summary>
/// The corpus in <c>Corpus/</c> assembled by this assembler must load exactly the bytes GNU as + ld
/// load, section by section, at the same addresses (<c>Corpus/layout.ld</c> is our layout). The
/// golden files hold GNU's bytes so the comparison runs everywhere; with the tools installed (CI)
/// the live comparison runs too, which also proves the golden files current.
/// </summary>
public sealed class GnuCrossCheckTests
{
    private static readonly string CorpusFolder = Path.Combine(AppContext.BaseDirectory, "Corpus");

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(CorpusFolder, "*.S").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }
        return data;
    }

    private static string SourceCorpusFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "VirtApi.Assembler.Tests", "Corpus");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("the source corpus folder was not found");
    }

    private static string Ours(string name) => ElfSections.Describe(ElfSections.Read(OurElf(name)));

    private static byte[] OurElf(string name)
    {
        var result = RiscVAssembler.Assemble(File.ReadAllText(Path.Combine(CorpusFolder, name + ".S")));
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_LoadsTheSameBytesAsTheGoldenGnuOutput(string name)
    {
        var golden = File.ReadAllText(Path.Combine(CorpusFolder, name + ".golden"));
        AssertSameSections(golden, Ours(name));
    }

    [SkippableTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_LoadsTheSameBytesAsGnuAsAndLd_Live(string name)
    {
        var (gnu, gnuFlags) = GnuAssemble(name);
        if (Environment.GetEnvironmentVariable("VIRTAPI_UPDATE_GOLDEN") == "1")
        {
            // Regenerate after changing the corpus: VIRTAPI_UPDATE_GOLDEN=1 dotnet test tests/VirtApi.Assembler.Tests
            File.WriteAllText(Path.Combine(SourceCorpusFolder(), name + ".golden"), gnu);
            File.WriteAllText(Path.Combine(CorpusFolder, name + ".golden"), gnu);
        }
        AssertSameSections(gnu, Ours(name));
        Assert.Equal(File.ReadAllText(Path.Combine(CorpusFolder, name + ".golden")), gnu);
        // e_flags too: EF_RISCV_RVC (0x1) once .option rvc is used, otherwise 0 (soft-float ABI).
        Assert.Equal(gnuFlags, ElfSections.Flags(OurElf(name)));
    }

    /// <summary>
    /// Assembles and links a corpus file with GNU binutils (skips without them, fails under CI): the
    /// sections as in the golden files, and the ELF header's e_flags. The -march has no C: a corpus
    /// file that wants it says <c>.option rvc</c>, which GNU as honours the same way we do.
    /// </summary>
    internal static (string Sections, uint Flags) GnuAssemble(string name)
    {
        var asPath = ExternalTool.Require("riscv64-unknown-elf-as", "binutils-riscv64-unknown-elf");
        var ldPath = ExternalTool.Require("riscv64-unknown-elf-ld", "binutils-riscv64-unknown-elf");
        var work = Directory.CreateTempSubdirectory("virtapi-gnu-").FullName;
        try
        {
            var obj = Path.Combine(work, name + ".o");
            var elf = Path.Combine(work, name + ".elf");
            var assembled = ExternalTool.Run(asPath, ["-march=rv64ima_zicsr_zifencei", "-mabi=lp64", "-mno-relax", "-o", obj, Path.Combine(CorpusFolder, name + ".S")], TimeSpan.FromSeconds(30));
            Assert.True(assembled.ExitCode == 0, assembled.Stderr);
            var linked = ExternalTool.Run(ldPath, ["-T", Path.Combine(CorpusFolder, "layout.ld"), "-o", elf, obj], TimeSpan.FromSeconds(30));
            Assert.True(linked.ExitCode == 0, linked.Stderr);
            var bytes = File.ReadAllBytes(elf);
            return (ElfSections.Describe(ElfSections.Read(bytes)), ElfSections.Flags(bytes));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertSameSections(string expected, string actual)
    {
        var want = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var got = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(want.Select(l => string.Join(' ', l.Split(' ').Take(3))), got.Select(l => string.Join(' ', l.Split(' ').Take(3))));
        for (var i = 0; i < want.Length; i++)
        {
            var w = want[i].Split(' ');
            var g = got[i].Split(' ');
            var wb = w.Length > 3 ? w[3] : "";
            var gb = g.Length > 3 ? g[3] : "";
            if (wb != gb)
            {
                var at = Enumerable.Range(0, Math.Min(wb.Length, gb.Length)).FirstOrDefault(k => wb[k] != gb[k]) / 8 * 8;
                Assert.Fail($"{w[0]} differs at byte {at / 2} (0x{Convert.ToUInt64(w[1], 16) + (ulong)(at / 2):x}): GNU {wb[at..Math.Min(at + 16, wb.Length)]} ours {gb[at..Math.Min(at + 16, gb.Length)]}");
            }
        }
    }
}
