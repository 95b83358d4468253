using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Persistence.Entities;

/// <summary>A VM definition and the last state its worker reported.</summary>
public sealed class VmEntity
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public Guid ImageId { get; set; }

    public Guid HostId { get; set; }

    /// <summary>The host, when loaded (the spec needs its hypervisor type).</summary>
    public HostEntity? Host { get; set; }

    public int Vcpus { get; set; }

    public int MemoryMiB { get; set; }

    public CpuMode CpuMode { get; set; }

    public CpuProfile CpuProfile { get; set; }

    public MemoryMode MemoryMode { get; set; }

    /// <summary>Instructions the VM may retire per boot before it is stopped; null = no limit.</summary>
    public long? InstructionBudget { get; set; }

    public VmState State { get; set; }

    /// <summary>Why the VM is in its state (<c>guest-power-off</c>, <c>instruction-budget</c>, <c>host-restart</c>, a crash reason …).</summary>
    public string? StateReason { get; set; }

    /// <summary>The guest's exit code when it powered off.</summary>
    public int? ExitCode { get; set; }

    /// <summary>Instructions retired in the last run, as the worker last reported.</summary>
    public long InstructionsRetired { get; set; }

    /// <summary>The worker's sequence number of the stored state, so an older change never overwrites a newer one.</summary>
    public long StatusSequence { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The VM's devices beyond the board's own, when loaded (<see cref="VmQueries.WithDefinition"/>).</summary>
    public List<VmDeviceEntity> Devices { get; set; } = [];

    /// <summary>A detached copy carrying a worker's live status (never a tracked entity's change).</summary>
    public VmEntity WithStatus(VmStatus status)
    {
        var copy = (VmEntity)MemberwiseClone();
        copy.State = status.State;
        copy.StateReason = status.Reason;
        copy.ExitCode = status.ExitCode;
        copy.InstructionsRetired = (long)status.InstructionsRetired;
        return copy;
    }
}
