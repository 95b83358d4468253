using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Persistence.Entities;

/// <summary>
/// A snapshot (DESIGN.md "Snapshots"): the VM's definition and machine state when it was taken, and a
/// page map (<see cref="PageMap"/>) of its guest memory over the content-addressed page store
/// (<see cref="StoredPageEntity"/>). A <c>full</c> snapshot maps every page that held data; a
/// <c>diff</c> maps only pages written since its parent, and needs the parent's chain to restore.
/// </summary>
public sealed class SnapshotEntity
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public SnapshotKind Kind { get; set; }

    /// <summary>A diff's parent.</summary>
    public Guid? ParentId { get; set; }

    /// <summary>The VM it was taken of; not a foreign key: a snapshot outlives its VM (it can still be cloned).</summary>
    public Guid VmId { get; set; }

    public required string VmName { get; set; }

    // The definition the VM had when it was taken; a restore needs the same, a clone gets it.
    public Guid ImageId { get; set; }

    public int Vcpus { get; set; }

    public int MemoryMiB { get; set; }

    public CpuMode CpuMode { get; set; }

    public CpuProfile CpuProfile { get; set; }

    public MemoryMode MemoryMode { get; set; }

    public long? InstructionBudget { get; set; }

    /// <summary>The VM's devices (one JSON column); their disks' contents are not part of a snapshot.</summary>
    public List<SnapshotDevice> Devices { get; set; } = [];

    /// <summary>The VM's state when it was taken (running, paused, or without a machine: created, stopped, crashed).</summary>
    public VmState VmState { get; set; }

    public long InstructionsRetired { get; set; }

    /// <summary>The machine state (SnapshotFormat JSON, Brotli-compressed); null when the VM had no machine.</summary>
    public byte[]? MachineState { get; set; }

    /// <summary>SHA-256 (hex) of the uncompressed machine state, checked before a restore.</summary>
    public string? MachineStateHash { get; set; }

    public int FormatVersion { get; set; }

    /// <summary>The page map: guest frame → page hash, encoded by <see cref="Snapshots.PageMapCodec"/>.</summary>
    public required byte[] PageMap { get; set; }

    /// <summary>Pages the map references that hold data (zero pages are recorded, not stored).</summary>
    public int PagesReferenced { get; set; }

    public int ZeroPages { get; set; }

    /// <summary>Pages this snapshot added to the store (the rest were there already).</summary>
    public int PagesNewlyStored { get; set; }

    /// <summary>Bytes this snapshot added: its new pages as stored, and its machine state.</summary>
    public long BytesStored { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A device of the VM a snapshot was taken of: what a restore needs the VM to have, and what a clone
/// gets (with a fresh, empty disk of the same size for a block device).
/// </summary>
public sealed class SnapshotDevice
{
    public DeviceKind Kind { get; set; }

    public DeviceModel Model { get; set; }

    public int Slot { get; set; }

    public required string Name { get; set; }

    /// <summary>An emulated or split block device's disk size; null for a console.</summary>
    public int? SizeMiB { get; set; }
}

/// <summary>A 4 KiB page of guest memory stored once by its content (SHA-256, hex), compressed when that helps.</summary>
public sealed class StoredPageEntity
{
    public required string Hash { get; set; }

    public required byte[] Data { get; set; }

    /// <summary>Brotli-compressed; otherwise the 4096 bytes as they are.</summary>
    public bool Compressed { get; set; }
}

/// <summary>
/// How many snapshots' page maps reference a stored page; the page is deleted when none does. A table
/// of its own: SQLite rewrites a whole row to change one column, and a page's row holds its 4 KiB.
/// </summary>
public sealed class PageReferenceEntity
{
    public required string Hash { get; set; }

    public int RefCount { get; set; }
}

public enum SnapshotKind
{
    Full,
    Diff,
}
