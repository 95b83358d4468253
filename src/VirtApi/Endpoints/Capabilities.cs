using VirtApi.Contracts;

namespace VirtApi.Endpoints;

/// <summary>
/// The catalogue of DESIGN.md's techniques with what this build implements. An entry becomes
/// available in the change that makes VMs able to use it, never before.
/// </summary>
public static class Capabilities
{
    public static IReadOnlyList<Capability> CpuModes { get; } =
    [
        new("native", false, "The guest runs on the hart at its real privilege level; no VMM."),
        new("trap-and-emulate", false, "The guest kernel runs deprivileged; each privileged instruction traps to the VMM, which emulates it."),
        new("binary-translation", false, "Kernel code runs from translated blocks in which privileged instructions became VMM calls."),
        new("paravirtual", false, "The guest knows it is virtualized and calls the VMM by hypercall."),
        new("hardware-assisted", false, "The hart runs the guest in guest mode (like RISC-V H); the VMM is entered only by VM exits."),
    ];

    public static IReadOnlyList<Capability> CpuProfiles { get; } =
    [
        new("riscv", false, "Every sensitive instruction traps when deprivileged (Popek-Goldberg holds)."),
        new("x86-legacy", false, "Like pre-2005 x86: sstatus/mstatus accesses from deprivileged mode fail silently instead of trapping."),
    ];

    public static IReadOnlyList<Capability> MemoryModes { get; } =
    [
        new("direct", false, "Guest page tables map VA to PA and PA is machine memory (native only)."),
        new("shadow", false, "The VMM keeps shadow page tables VA to MA, filled on hidden faults."),
        new("nested", false, "A two-stage hardware walk: guest table VA to GPA, nested table GPA to MA."),
        new("paravirtual", false, "Guest page tables hold machine frames, changed through validated mmu_update hypercalls."),
    ];

    public static IReadOnlyList<Capability> DeviceModels { get; } =
    [
        new("emulated", false, "Legacy register-level devices (UART 16550A, ATA PIO); every register access exits to the VMM."),
        new("split", false, "virtio-mmio front end in the guest, back end in the VMM or service VM; one exit per batch."),
        new("passthrough", false, "A host's physical device mapped straight into one guest; no VMM on the path."),
    ];
}
