namespace VirtApi.Persistence.Entities;

/// <summary>A guest image: an ELF executable, assembled from source or uploaded.</summary>
public sealed class ImageEntity
{
    public Guid Id { get; set; }

    /// <summary>Unique name (built-in images keep the name of their guest program).</summary>
    public required string Name { get; set; }

    public ImageFormat Format { get; set; }

    /// <summary>The assembly source of an <c>asm</c> image; null for an uploaded ELF.</summary>
    public string? Source { get; set; }

    /// <summary>The ELF bytes guests boot from (assembled or uploaded).</summary>
    public required byte[] Content { get; set; }

    /// <summary>Shipped with the service (<c>src/VirtApi.Guests</c>): listed, read-only, seeded at start.</summary>
    public bool BuiltIn { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>How an image was given to the service.</summary>
public enum ImageFormat
{
    /// <summary>Assembly source in GNU as syntax, assembled by VirtApi.Assembler.</summary>
    Asm,

    /// <summary>An ELF64 RISC-V executable.</summary>
    Elf,
}
