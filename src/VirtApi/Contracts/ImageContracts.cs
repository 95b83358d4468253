using VirtApi.Persistence.Entities;

namespace VirtApi.Contracts;

/// <summary>An image to add: assembly source (<c>asm</c>) or an ELF executable in base64 (<c>elf</c>).</summary>
public sealed record CreateImageRequest
{
    /// <summary>Unique name, a DNS label.</summary>
    /// <example>my-guest</example>
    public string? Name { get; init; }

    /// <summary><c>asm</c> (source is assembled) or <c>elf</c> (contentBase64 is validated by the ELF loader).</summary>
    /// <example>asm</example>
    public ImageFormat? Format { get; init; }

    /// <summary>GNU as syntax source, for <c>asm</c>; linked at 0x80000000, entry at <c>_start</c>.</summary>
    /// <example>.globl _start
    /// _start: li t0, 0x100000
    ///         li t1, 0x5555
    ///         sw t1, 0(t0)</example>
    public string? Source { get; init; }

    /// <summary>The ELF file, base64, for <c>elf</c>.</summary>
    public string? ContentBase64 { get; init; }
}

/// <summary>An image as the API shows it. Addresses are hex strings (<c>0x80000000</c>): 64-bit values do not fit a JSON number.</summary>
/// <param name="Id">The image's id.</param>
/// <param name="Name">Unique name.</param>
/// <param name="Format">asm or elf.</param>
/// <param name="BuiltIn">Shipped with the service and read-only.</param>
/// <param name="Size">Size of the ELF file in bytes.</param>
/// <param name="Entry">Entry point.</param>
/// <param name="Segments">Loadable segments.</param>
/// <param name="Symbols">Symbols of the ELF symbol table, by address.</param>
/// <param name="CreatedAt">When the image was added.</param>
public sealed record ImageResponse(
    Guid Id,
    string Name,
    ImageFormat Format,
    bool BuiltIn,
    int Size,
    string Entry,
    IReadOnlyList<ImageSegment> Segments,
    IReadOnlyList<ImageSymbol> Symbols,
    DateTimeOffset CreatedAt);

/// <summary>One PT_LOAD segment.</summary>
/// <param name="Address">Where it is loaded.</param>
/// <param name="FileSize">Bytes taken from the file.</param>
/// <param name="MemorySize">Bytes in memory (the rest is zero: bss).</param>
/// <param name="Permissions">r, w and x as in readelf, e.g. r-x.</param>
public sealed record ImageSegment(string Address, long FileSize, long MemorySize, string Permissions);

/// <summary>A symbol.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Address">Its value.</param>
public sealed record ImageSymbol(string Name, string Address);

/// <summary>One assembler error.</summary>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">What is wrong.</param>
public sealed record AssemblyError(int Line, int Column, string Message);
