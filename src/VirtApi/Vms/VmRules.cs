using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Vms;

/// <summary>What makes a VM definition valid (issue 5 "VMs"), shared by create and update.</summary>
public static class VmRules
{
    public const int MaxVcpus = 8;
    public const int MaxMemoryMiB = 4096;
    public const int DefaultMemoryMiB = 64;
    public const ulong RamBase = 0x8000_0000;

    /// <summary>Field checks that need nothing but the request.</summary>
    public static Dictionary<string, string[]> Validate(string? name, int? vcpus, int? memoryMiB, long? instructionBudget, bool nameRequired)
    {
        var errors = new Dictionary<string, string[]>();
        if (name is not null || nameRequired)
        {
            var nameError = Names.CheckDnsLabel(name);
            if (nameError is not null)
            {
                errors["name"] = [nameError];
            }
        }
        if (vcpus is < 1 or > MaxVcpus)
        {
            errors["vcpus"] = [$"must be between 1 and {MaxVcpus}, was {vcpus}"];
        }
        if (memoryMiB is < 1 or > MaxMemoryMiB)
        {
            errors["memoryMiB"] = [$"must be between 1 and {MaxMemoryMiB}, was {memoryMiB}"];
        }
        if (instructionBudget is < 0)
        {
            errors["instructionBudget"] = [$"must be 0 (no limit) or positive, was {instructionBudget}"];
        }
        return errors;
    }

    /// <summary>The memory an image needs: from the start of RAM to the end of its highest segment, rounded up to MiB.</summary>
    public static int RequiredMemoryMiB(ulong loadEnd) =>
        loadEnd <= RamBase ? 1 : (int)Math.Max(1, (loadEnd - RamBase + (1UL << 20) - 1) >> 20);

    /// <summary>The effective modes once defaults are applied.</summary>
    public static (CpuMode Cpu, CpuProfile Profile, MemoryMode Memory) Modes(CpuConfig? cpu, MemoryConfig? memory, VmEntity? current = null)
    {
        var cpuMode = cpu?.Mode ?? current?.CpuMode ?? CpuMode.Native;
        var profile = cpu?.Profile ?? current?.CpuProfile ?? CpuProfile.Riscv;
        // A new CPU mode without a memory mode takes that mode's default rather than keeping one that no longer fits.
        var memoryMode = memory?.Mode
            ?? (current is not null && cpu?.Mode is null ? current.MemoryMode : TechniqueCatalog.DefaultMemoryMode(cpuMode));
        return (cpuMode, profile, memoryMode);
    }

    /// <summary>Null when the combination is valid and built; otherwise the problem's code and detail.</summary>
    public static (string Code, string Detail, object Extension)? CheckModes(CpuMode cpu, CpuProfile profile, MemoryMode memory)
    {
        switch (TechniqueCatalog.Check(cpu, profile, memory))
        {
            case ModeCheck.Invalid:
                var valid = TechniqueCatalog.ValidCombinations
                    .Select(c => new { cpuMode = EnumNames.ToName(c.Cpu), memoryMode = EnumNames.ToName(c.Memory) })
                    .ToList();
                return (Problems.ProblemCode.InvalidModeCombination,
                    $"memory.mode {EnumNames.ToName(memory)} does not go with cpu.mode {EnumNames.ToName(cpu)}; see validCombinations.",
                    valid);
            case ModeCheck.Unavailable:
                var missing = new List<string>();
                if (!TechniqueCatalog.IsImplemented(cpu))
                {
                    missing.Add($"cpu.mode {EnumNames.ToName(cpu)}");
                }
                if (!TechniqueCatalog.IsImplemented(profile))
                {
                    missing.Add($"cpu.profile {EnumNames.ToName(profile)}");
                }
                if (!TechniqueCatalog.IsImplemented(memory))
                {
                    missing.Add($"memory.mode {EnumNames.ToName(memory)}");
                }
                return (Problems.ProblemCode.ModeUnavailable,
                    $"{string.Join(" and ", missing)} {(missing.Count == 1 ? "is" : "are")} not available on this server yet; GET /api/v1/info lists what is.",
                    missing);
            default:
                return null;
        }
    }

    public static VmResponse ToResponse(VmEntity vm) => new(
        vm.Id,
        vm.Name,
        vm.ImageId,
        vm.HostId,
        vm.Vcpus,
        vm.MemoryMiB,
        new CpuConfigResponse(vm.CpuMode, vm.CpuProfile),
        new MemoryConfigResponse(vm.MemoryMode),
        vm.InstructionBudget,
        [.. DeviceRules.Ordered(vm.Devices).Select(DeviceRules.ToResponse)],
        vm.State,
        vm.StateReason,
        vm.ExitCode,
        VmLifecycle.AllowedActions(vm.State),
        vm.InstructionsRetired,
        vm.CreatedAt,
        vm.UpdatedAt);
}
