using VirtApi.TestSupport;

namespace VirtApi.Machine.Tests.Differential;

/// <summary>The checked-in ELF of <c>compressed.src.S</c> is what GNU as + ld build from it.</summary>
public sealed class CompressedProgramTests
{
    [SkippableFact]
    public void CheckedInElf_IsWhatGnuBuildsFromTheSource()
    {
        var asPath = ExternalTool.Require("riscv64-unknown-elf-as", "binutils-riscv64-unknown-elf");
        var ldPath = ExternalTool.Require("riscv64-unknown-elf-ld", "binutils-riscv64-unknown-elf");
        var work = Directory.CreateTempSubdirectory("virtapi-rvc-").FullName;
        try
        {
            var obj = Path.Combine(work, "compressed.o");
            var elf = Path.Combine(work, "compressed.elf");
            var layout = Path.Combine(GuestProgram.Folder, "layout.ld");
            // Relative source name, as when the checked-in file was built: as records it in the symbol table.
            var assembled = ExternalTool.Run(asPath, ["-march=rv64imac_zicsr_zifencei", "-mabi=lp64", "-mno-relax", "-o", obj, "compressed.src.S"], TimeSpan.FromSeconds(30), GuestProgram.Folder);
            Assert.True(assembled.ExitCode == 0, assembled.Stderr);
            var linked = ExternalTool.Run(ldPath, ["-T", layout, "-o", elf, obj], TimeSpan.FromSeconds(30));
            Assert.True(linked.ExitCode == 0, linked.Stderr);
            Assert.Equal(File.ReadAllBytes(elf), GuestProgram.Assemble("compressed"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
