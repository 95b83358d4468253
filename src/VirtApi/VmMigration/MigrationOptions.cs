using VirtApi.Hypervisor.Migration;

namespace VirtApi.VmMigration;

/// <summary>The <c>Migration</c> section of <c>appsettings.json</c>: the link between hosts and a live migration's defaults.</summary>
public sealed class MigrationOptions
{
    public const string Section = "Migration";

    /// <summary>Guest instructions the source retires while one 4 KiB page crosses the link (the link's speed against the guest's).</summary>
    public ulong InstructionsPerPage { get; set; } = 100;

    /// <summary>Pages sent back to back before the guest runs again.</summary>
    public int ChunkPages { get; set; } = 64;

    /// <summary>Pre-copy rounds at most when a request does not say.</summary>
    public int DefaultMaxRounds { get; set; } = 30;

    /// <summary>Pre-copy ends when a round leaves at most this many pages dirty, when a request does not say.</summary>
    public int DefaultStopCopyPages { get; set; } = 50;

    /// <summary>The link as the hypervisor takes it.</summary>
    public MigrationLink Link => new() { InstructionsPerPage = InstructionsPerPage, ChunkPages = ChunkPages };
}
