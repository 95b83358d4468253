using VirtApi.Hypervisor.Techniques;

namespace VirtApi.Hypervisor.Vm;

/// <summary>Everything a worker needs to run a VM: the definition, resolved (image bytes, not an id).</summary>
/// <param name="Id">The VM's id.</param>
/// <param name="Name">The VM's name (for logs).</param>
/// <param name="Elf">The ELF image to boot.</param>
/// <param name="Vcpus">Harts.</param>
/// <param name="MemoryMiB">Guest RAM in MiB.</param>
/// <param name="CpuMode">CPU virtualization.</param>
/// <param name="CpuProfile">CPU profile.</param>
/// <param name="MemoryMode">Memory virtualization.</param>
/// <param name="InstructionBudget">Instructions a run may retire; null = no limit.</param>
public sealed record VmSpec(
    Guid Id,
    string Name,
    byte[] Elf,
    int Vcpus,
    int MemoryMiB,
    CpuMode CpuMode,
    CpuProfile CpuProfile,
    MemoryMode MemoryMode,
    ulong? InstructionBudget);
