namespace VirtApi.Hypervisor.Techniques;

/// <summary>How the guest's CPU is virtualized (DESIGN.md "CPU virtualization: cpu.mode").</summary>
public enum CpuMode
{
    /// <summary>The guest runs on the hart at its real privilege level; no VMM.</summary>
    Native,

    /// <summary>The guest kernel runs deprivileged; privileged instructions trap to the VMM, which emulates them.</summary>
    TrapAndEmulate,

    /// <summary>Kernel code runs from translated blocks whose privileged instructions became VMM calls.</summary>
    BinaryTranslation,

    /// <summary>A guest that knows it is virtualized calls the VMM by hypercall.</summary>
    Paravirtual,

    /// <summary>The hart runs the guest in guest mode (like RISC-V H); the VMM is entered by VM exits.</summary>
    HardwareAssisted,
}

/// <summary>Which hardware the guest's CPU models (DESIGN.md "CPU profile: cpu.profile").</summary>
public enum CpuProfile
{
    /// <summary>Every sensitive instruction traps when deprivileged: the Popek–Goldberg condition holds.</summary>
    Riscv,

    /// <summary>Like pre-2005 x86: deprivileged sstatus/mstatus accesses fail silently instead of trapping.</summary>
    X86Legacy,
}

/// <summary>How guest memory is virtualized (DESIGN.md "Memory virtualization: memory.mode").</summary>
public enum MemoryMode
{
    /// <summary>The guest's page tables map VA to PA and PA is machine memory.</summary>
    Direct,

    /// <summary>The VMM keeps shadow tables VA → MA, filled on hidden faults.</summary>
    Shadow,

    /// <summary>A two-stage walk: the guest's table VA → GPA, each step through the nested table GPA → MA.</summary>
    Nested,

    /// <summary>The guest's tables hold machine frames, changed only through validated hypercalls.</summary>
    Paravirtual,
}
