using VirtApi.Hypervisor.Devices;
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
/// <param name="Devices">The VM's devices beyond the board's own (uart0, CLINT, PLIC, test finisher).</param>
/// <param name="HostType">The host's hypervisor type: where split back ends run (service VM or VMM).</param>
public sealed record VmSpec(
    Guid Id,
    string Name,
    byte[] Elf,
    int Vcpus,
    int MemoryMiB,
    CpuMode CpuMode,
    CpuProfile CpuProfile,
    MemoryMode MemoryMode,
    ulong? InstructionBudget,
    IReadOnlyList<VmDeviceSpec>? Devices = null,
    HypervisorType HostType = HypervisorType.Hosted)
{
    /// <summary>The VM's devices beyond the board's own; empty when it has none.</summary>
    public IReadOnlyList<VmDeviceSpec> DeviceList => Devices ?? [];
}
