namespace VirtApi.Assembler;

/// <summary>Where and how to assemble.</summary>
public sealed record AssemblerOptions
{
    /// <summary>Address of the first text byte (the QEMU virt RAM base by default).</summary>
    public ulong BaseAddress { get; init; } = 0x8000_0000;

    /// <summary>Name used in messages.</summary>
    public string FileName { get; init; } = "input.S";

    /// <summary>Largest source accepted.</summary>
    public int MaxSourceBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Largest ELF produced (bss counts, since it must fit guest memory).</summary>
    public int MaxOutputBytes { get; init; } = 64 * 1024 * 1024;
}

/// <summary>One error, with the 1-based line and column it was found at.</summary>
public sealed record AssemblerError(int Line, int Column, string Message)
{
    public override string ToString() => $"{Line}:{Column}: {Message}";
}

/// <summary>The outcome of <see cref="RiscVAssembler.Assemble"/>: an ELF, or every error at once.</summary>
public sealed record AssemblyResult
{
    internal AssemblyResult(byte[] elf, IReadOnlyList<AssemblerError> errors, IReadOnlyDictionary<string, ulong> symbols, ulong entry)
    {
        Elf = elf;
        Errors = errors;
        Symbols = symbols;
        Entry = entry;
    }

    /// <summary>True when there are no errors.</summary>
    public bool Succeeded => Errors.Count == 0;

    /// <summary>The ELF64 executable; empty when assembly failed.</summary>
    public byte[] Elf { get; }

    public IReadOnlyList<AssemblerError> Errors { get; }

    /// <summary>Every label and <c>.equ</c>/<c>.set</c> symbol with its value.</summary>
    public IReadOnlyDictionary<string, ulong> Symbols { get; }

    public ulong Entry { get; }

    internal static AssemblyResult Failed(IReadOnlyList<AssemblerError> errors) =>
        new([], errors, new Dictionary<string, ulong>(), 0);
}
