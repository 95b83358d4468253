using VirtApi.Machine.Elf;
using VirtApi.TestSupport;

namespace VirtApi.Machine.Tests.Differential;

/// <summary>
/// <c>compressed.S</c> is built by our assembler like every program (prelude + source). The checked-in
/// <c>compressed.elf.hex</c> is what GNU as + ld build from the same prelude + source; both must put
/// the same bytes in memory, so the 16-bit encodings our assembler picks are GNU's. With binutils
/// installed, GNU must still build exactly the checked-in file, which keeps it honest.
/// </summary>
public sealed class CompressedProgramTests
{
    private static byte[] CheckedIn() =>
        Convert.FromHexString(string.Concat(File.ReadAllLines(Path.Combine(GuestProgram.Folder, "compressed.elf.hex"))));

    [Fact]
    public void OurBuild_LoadsTheSameBytesAsTheCheckedInGnuBuild()
    {
        var ours = ElfLoader.Parse(GuestProgram.Assemble("compressed"));
        var gnu = ElfLoader.Parse(CheckedIn());
        Assert.Equal(gnu.Entry, ours.Entry);
        // GNU ld merges text and rodata into one segment and we keep one per section, so compare what
        // a loader puts in memory: every byte either image loads, reading unloaded bytes as zero RAM.
        var addresses = new SortedSet<ulong>();
        foreach (var segment in gnu.Segments.Concat(ours.Segments))
        {
            for (var offset = 0UL; offset < segment.MemorySize; offset++)
            {
                addresses.Add(segment.Address + offset);
            }
        }
        Assert.NotEmpty(addresses);
        foreach (var address in addresses)
        {
            var (want, got) = (At(gnu, address), At(ours, address));
            Assert.True(want == got, $"byte at 0x{address:x}: GNU 0x{want:x2}, ours 0x{got:x2}");
        }
    }

    private static byte At(ElfImage image, ulong address)
    {
        foreach (var segment in image.Segments)
        {
            if (address >= segment.Address && address - segment.Address < (ulong)segment.Data.Length)
            {
                return segment.Data[(int)(address - segment.Address)];
            }
        }
        return 0;
    }

    [SkippableFact]
    public void CheckedInElf_IsWhatGnuBuildsFromThePreludeAndSource()
    {
        // Built with the assembler corpus's flags, from a relative source name: see BuildWithGnu.
        var built = GuestProgram.BuildWithGnu("compressed", GuestProgram.Source("compressed"));
        if (Environment.GetEnvironmentVariable("VIRTAPI_UPDATE_GOLDEN") == "1")
        {
            // Regenerate after changing compressed.S or the prelude: VIRTAPI_UPDATE_GOLDEN=1 dotnet test tests/VirtApi.Machine.Tests
            var hex = Convert.ToHexString(built).ToLowerInvariant().Chunk(128).Select(c => new string(c));
            File.WriteAllLines(Path.Combine(SourceProgramsFolder(), "compressed.elf.hex"), hex);
            File.WriteAllLines(Path.Combine(GuestProgram.Folder, "compressed.elf.hex"), hex);
        }
        Assert.Equal(CheckedIn(), built);
    }

    private static string SourceProgramsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "VirtApi.Machine.Tests", "Programs");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("the source Programs folder was not found");
    }
}
