namespace VirtApi.Machine.Traps;

/// <summary>Synchronous exception causes (privileged spec 1.12, table 3.6, mcause with interrupt bit 0).</summary>
public enum ExceptionCause
{
    InstructionAddressMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadAddressMisaligned = 4,
    LoadAccessFault = 5,
    StoreAddressMisaligned = 6,
    StoreAccessFault = 7,
    EnvironmentCallFromU = 8,
    EnvironmentCallFromS = 9,
    EnvironmentCallFromM = 11,
    InstructionPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
}

/// <summary>Interrupt causes (table 3.6 with the interrupt bit set), also their bit in mip/mie.</summary>
public enum InterruptCause
{
    SupervisorSoftware = 1,
    MachineSoftware = 3,
    SupervisorTimer = 5,
    MachineTimer = 7,
    SupervisorExternal = 9,
    MachineExternal = 11,
}

/// <summary>The privilege levels (section 1.2); the value is what MPP/SPP hold.</summary>
public enum PrivilegeLevel
{
    User = 0,
    Supervisor = 1,
    Machine = 3,
}

/// <summary>A guest trap as a value: traps never travel as .NET exceptions.</summary>
public readonly record struct Trap(ExceptionCause Cause, ulong Tval);
