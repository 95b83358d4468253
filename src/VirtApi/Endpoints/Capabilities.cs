using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Persistence;

namespace VirtApi.Endpoints;

/// <summary>
/// The catalogue of DESIGN.md's techniques. Whether one is available comes from
/// <see cref="TechniqueCatalog"/> and <see cref="DeviceRules"/>, the same tables VM and device
/// validation use, so /info and a 422 mode-unavailable or device-kind-unavailable can never disagree.
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

    /// <summary>Every model is accepted for every kind that has a device model (<see cref="DeviceKinds"/>).</summary>
    public static IReadOnlyList<Capability> DeviceModels { get; } =
    [
        new(EnumNames.ToName(DeviceModel.Emulated), true, "Legacy register-level devices (UART 16550A, ATA PIO) in the four legacy slots; every register access exits to the VMM."),
        new(EnumNames.ToName(DeviceModel.Split), true, "virtio-mmio front end in the guest (eight slots), back end in the VMM or service VM; one exit per batch."),
        new(EnumNames.ToName(DeviceModel.Passthrough), true, "A host's physical device mapped straight into one guest (a legacy slot); no VMM on the path; no snapshot or live migration."),
    ];

    public static IReadOnlyList<Capability> DeviceKinds { get; } =
    [
        Kind(DeviceKind.Console, "A serial console: a 16550A UART (uart1-uart4) or virtio-console."),
        Kind(DeviceKind.Block, "A disk backed by a file in the data folder: ATA PIO (ata0-ata3) or virtio-blk."),
        Kind(DeviceKind.Net, "A network interface (optional in the design; no device model in this build)."),
    ];

    private static Capability Kind(DeviceKind kind, string description) =>
        new(EnumNames.ToName(kind), DeviceRules.HasModel(kind), description);

    private static Capability Cpu(CpuMode mode, string description) =>
        new(EnumNames.ToName(mode), TechniqueCatalog.IsImplemented(mode), description);

    private static Capability Profile(CpuProfile profile, string description) =>
        new(EnumNames.ToName(profile), TechniqueCatalog.IsImplemented(profile), description);

    private static Capability Memory(MemoryMode mode, string description) =>
        new(EnumNames.ToName(mode), TechniqueCatalog.IsImplemented(mode), description);
}
