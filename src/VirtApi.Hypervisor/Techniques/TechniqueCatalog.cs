namespace VirtApi.Hypervisor.Techniques;

/// <summary>
/// Which combinations of CPU mode, profile and memory mode make sense (DESIGN.md's memory-mode table)
/// and which of them this build implements. A technique is listed as implemented in the change that
/// makes VMs able to run with it, never before.
/// </summary>
public static class TechniqueCatalog
{
    /// <summary>The memory modes valid with each CPU mode (DESIGN.md "valid with" column).</summary>
    private static readonly Dictionary<CpuMode, MemoryMode[]> ValidMemoryModes = new()
    {
        [CpuMode.Native] = [MemoryMode.Direct],
        [CpuMode.TrapAndEmulate] = [MemoryMode.Shadow],
        [CpuMode.BinaryTranslation] = [MemoryMode.Shadow],
        [CpuMode.Paravirtual] = [MemoryMode.Paravirtual],
        [CpuMode.HardwareAssisted] = [MemoryMode.Shadow, MemoryMode.Nested],
    };

    private static readonly HashSet<CpuMode> ImplementedCpuModes = [CpuMode.Native, CpuMode.TrapAndEmulate];
    private static readonly HashSet<CpuProfile> ImplementedProfiles = [CpuProfile.Riscv, CpuProfile.X86Legacy];
    private static readonly HashSet<MemoryMode> ImplementedMemoryModes = [MemoryMode.Direct, MemoryMode.Shadow];

    public static bool IsImplemented(CpuMode mode) => ImplementedCpuModes.Contains(mode);

    public static bool IsImplemented(CpuProfile profile) => ImplementedProfiles.Contains(profile);

    public static bool IsImplemented(MemoryMode mode) => ImplementedMemoryModes.Contains(mode);

    /// <summary>Every valid (cpu mode, memory mode) pair, in declaration order.</summary>
    public static IReadOnlyList<(CpuMode Cpu, MemoryMode Memory)> ValidCombinations { get; } =
        ValidMemoryModes.SelectMany(kv => kv.Value.Select(memory => (kv.Key, memory))).ToArray();

    /// <summary>The memory mode a VM gets when it names only a CPU mode.</summary>
    public static MemoryMode DefaultMemoryMode(CpuMode cpu) => ValidMemoryModes[cpu][0];

    /// <summary>Checks a VM's choice: first that the combination is valid, then that it is built.</summary>
    public static ModeCheck Check(CpuMode cpu, CpuProfile profile, MemoryMode memory)
    {
        if (!ValidMemoryModes[cpu].Contains(memory))
        {
            return ModeCheck.Invalid;
        }
        if (!IsImplemented(cpu) || !IsImplemented(profile) || !IsImplemented(memory))
        {
            return ModeCheck.Unavailable;
        }
        return ModeCheck.Valid;
    }
}

/// <summary>The outcome of <see cref="TechniqueCatalog.Check"/>.</summary>
public enum ModeCheck
{
    /// <summary>Valid and implemented.</summary>
    Valid,

    /// <summary>The memory mode does not go with the CPU mode.</summary>
    Invalid,

    /// <summary>Valid, but this build does not implement one of the parts yet.</summary>
    Unavailable,
}
