using VirtApi.Contracts;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Persistence;

namespace VirtApi.Endpoints;

/// <summary>
/// The catalogue of DESIGN.md's techniques. Whether one is available comes from
/// <see cref="TechniqueCatalog"/>, the same table VM validation uses, so /info and a 422
/// mode-unavailable can never disagree.
/// </summary>
public static class Capabilities
{
    public static IReadOnlyList<Capability> CpuModes { get; } =
    [
        Cpu(CpuMode.Native, "The guest runs on the hart at its real privilege level; no VMM."),
        Cpu(CpuMode.TrapAndEmulate, "The guest kernel runs deprivileged; each privileged instruction traps to the VMM, which emulates it."),
        Cpu(CpuMode.BinaryTranslation, "Kernel code runs from translated blocks in which privileged instructions became VMM calls."),
        Cpu(CpuMode.Paravirtual, "The guest knows it is virtualized and calls the VMM by hypercall."),
        Cpu(CpuMode.HardwareAssisted, "The hart runs the guest in guest mode (like RISC-V H); the VMM is entered only by VM exits."),
    ];

    public static IReadOnlyList<Capability> CpuProfiles { get; } =
    [
        Profile(CpuProfile.Riscv, "Every sensitive instruction traps when deprivileged (Popek-Goldberg holds)."),
        Profile(CpuProfile.X86Legacy, "Like pre-2005 x86: sstatus/mstatus accesses from deprivileged mode fail silently instead of trapping."),
    ];

    public static IReadOnlyList<Capability> MemoryModes { get; } =
    [
        Memory(MemoryMode.Direct, "Guest page tables map VA to PA and PA is machine memory (native only)."),
        Memory(MemoryMode.Shadow, "The VMM keeps shadow page tables VA to MA, filled on hidden faults."),
        Memory(MemoryMode.Nested, "A two-stage hardware walk: guest table VA to GPA, nested table GPA to MA."),
        Memory(MemoryMode.Paravirtual, "Guest page tables hold machine frames, changed through validated mmu_update hypercalls."),
    ];

    public static IReadOnlyList<Capability> DeviceModels { get; } =
    [
        new("emulated", false, "Legacy register-level devices (UART 16550A, ATA PIO); every register access exits to the VMM."),
        new("split", false, "virtio-mmio front end in the guest, back end in the VMM or service VM; one exit per batch."),
        new("passthrough", false, "A host's physical device mapped straight into one guest; no VMM on the path."),
    ];

    private static Capability Cpu(CpuMode mode, string description) =>
        new(EnumNames.ToName(mode), TechniqueCatalog.IsImplemented(mode), description);

    private static Capability Profile(CpuProfile profile, string description) =>
        new(EnumNames.ToName(profile), TechniqueCatalog.IsImplemented(profile), description);

    private static Capability Memory(MemoryMode mode, string description) =>
        new(EnumNames.ToName(mode), TechniqueCatalog.IsImplemented(mode), description);
}
