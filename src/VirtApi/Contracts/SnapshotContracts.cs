using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence.Entities;

namespace VirtApi.Contracts;

/// <summary>Take a snapshot of a VM.</summary>
public sealed record CreateSnapshotRequest
{
    /// <summary>A label, 1–63 characters.</summary>
    /// <example>before-upgrade</example>
    public string? Name { get; init; }

    /// <summary><c>full</c> (default): every page that holds data; <c>diff</c>: only pages written since the VM's last snapshot (its parent).</summary>
    public SnapshotKind? Kind { get; init; }
}

/// <summary>A snapshot.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Name">Its label.</param>
/// <param name="Kind">full or diff.</param>
/// <param name="ParentId">A diff's parent.</param>
/// <param name="VmId">The VM it was taken of (which may since have been deleted).</param>
/// <param name="VmName">That VM's name then.</param>
/// <param name="VmState">The VM's state when it was taken; without a machine (created, stopped, crashed) the snapshot holds only the definition.</param>
/// <param name="InstructionsRetired">Instructions the VM had retired when it was taken.</param>
/// <param name="PagesReferenced">Guest pages with data the snapshot references (for a diff, those written since its parent).</param>
/// <param name="ZeroPages">Guest pages recorded as all zeros (not stored).</param>
/// <param name="PagesNewlyStored">Pages this snapshot added to the page store; the rest were stored already.</param>
/// <param name="BytesStored">Bytes this snapshot added to the store (new pages, compressed, and the machine state).</param>
/// <param name="HasMachineState">Whether it holds a machine (the VM was running or paused).</param>
/// <param name="Definition">The VM's definition when it was taken: what a restore needs and a clone gets.</param>
/// <param name="FormatVersion">The saved-state format version.</param>
/// <param name="CreatedAt">When it was taken.</param>
public sealed record SnapshotResponse(
    Guid Id,
    string Name,
    SnapshotKind Kind,
    Guid? ParentId,
    Guid VmId,
    string VmName,
    VmState VmState,
    long InstructionsRetired,
    int PagesReferenced,
    int ZeroPages,
    int PagesNewlyStored,
    long BytesStored,
    bool HasMachineState,
    SnapshotDefinitionResponse Definition,
    int FormatVersion,
    DateTimeOffset CreatedAt);

/// <summary>The definition a snapshot was taken under.</summary>
/// <param name="ImageId">The image.</param>
/// <param name="Vcpus">Virtual CPUs.</param>
/// <param name="MemoryMiB">Guest memory in MiB.</param>
/// <param name="Cpu">CPU virtualization.</param>
/// <param name="Memory">Memory virtualization.</param>
/// <param name="InstructionBudget">Instruction budget per run, or null.</param>
/// <param name="Devices">The VM's devices, by slot (their disks' contents are not part of the snapshot).</param>
public sealed record SnapshotDefinitionResponse(
    Guid ImageId,
    int Vcpus,
    int MemoryMiB,
    CpuConfigResponse Cpu,
    MemoryConfigResponse Memory,
    long? InstructionBudget,
    IReadOnlyList<SnapshotDeviceResponse> Devices);

/// <summary>A device of the VM a snapshot was taken of.</summary>
/// <param name="Kind">console or block.</param>
/// <param name="Model">emulated or split (a VM with a passthrough device cannot be snapshotted).</param>
/// <param name="Slot">Its slot.</param>
/// <param name="Name">Its name (virtio-blk0, ata1 ...).</param>
/// <param name="SizeMiB">A block device's disk size; null for a console.</param>
public sealed record SnapshotDeviceResponse(DeviceKind Kind, DeviceModel Model, int Slot, string Name, int? SizeMiB);

/// <summary>A VM's snapshots, oldest first.</summary>
public sealed record SnapshotList(IReadOnlyList<SnapshotResponse> Items);

/// <summary>What an import created: the snapshot the file was exported from, its chain (root first), and the image it runs.</summary>
public sealed record SnapshotImportResponse(SnapshotResponse Snapshot, IReadOnlyList<SnapshotResponse> Chain, Guid ImageId, bool ImageCreated);

/// <summary>Boot, reboot or resume, optionally up to a pause point.</summary>
public sealed record RunRequest
{
    /// <summary>Pause when the VM's harts have retired this many instructions in all (exactly, whatever the scheduling); reason <c>pause-point</c>.</summary>
    /// <example>500000</example>
    public long? PauseAtInstruction { get; init; }
}
