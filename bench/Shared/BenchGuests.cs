using VirtApi.Assembler;

/// <summary>What the hypervisor benches share: guests assembled by the built-in assembler, and counter names as the API spells them.</summary>
internal static class BenchGuests
{
    /// <summary>The ELF of <paramref name="source"/>; a bench guest that does not assemble is a bug, so it throws.</summary>
    public static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join("\n", result.Errors.Take(5)));
        }
        return result.Elf;
    }

    /// <summary>An enum value's API name (kebab-case).</summary>
    public static string Name<T>(T value)
        where T : struct, Enum => VirtApi.Hypervisor.Statistics.CounterNames.Name(value);
}
