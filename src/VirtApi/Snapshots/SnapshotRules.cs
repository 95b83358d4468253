using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Snapshots;

/// <summary>What a snapshot's fields must be, its response, and how it compares with a VM's definition.</summary>
public static class SnapshotRules
{
    public const int MaxNameLength = 63;

    /// <summary>A label of 1 to 63 printable characters.</summary>
    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "is required"
        : name.Length > MaxNameLength ? $"must be at most {MaxNameLength} characters"
        : name.Any(char.IsControl) ? "must not contain control characters"
        : null;

    /// <summary>The snapshot of <paramref name="vm"/> as it is defined now (the counts and state come later).</summary>
    public static SnapshotEntity From(VmEntity vm, Guid id, string name, SnapshotKind kind, DateTimeOffset now) => new()
    {
        Id = id,
        Name = name,
        Kind = kind,
        VmId = vm.Id,
        VmName = vm.Name,
        ImageId = vm.ImageId,
        Vcpus = vm.Vcpus,
        MemoryMiB = vm.MemoryMiB,
        CpuMode = vm.CpuMode,
        CpuProfile = vm.CpuProfile,
        MemoryMode = vm.MemoryMode,
        InstructionBudget = vm.InstructionBudget,
        Devices = DeviceRules.ToSnapshot(vm.Devices),
        CreatedAt = now,
        PageMap = [],
    };

    /// <summary>Each definition field where <paramref name="vm"/> differs from the one <paramref name="snapshot"/> was taken under, with both values.</summary>
    public static Dictionary<string, string> Differences(SnapshotEntity snapshot, VmEntity vm)
    {
        var differences = new Dictionary<string, string>();
        void Compare(string field, string saved, string now)
        {
            if (saved != now)
            {
                differences[field] = $"the snapshot has {saved}, the VM has {now}";
            }
        }
        Compare("imageId", snapshot.ImageId.ToString(), vm.ImageId.ToString());
        Compare("vcpus", $"{snapshot.Vcpus}", $"{vm.Vcpus}");
        Compare("memoryMiB", $"{snapshot.MemoryMiB}", $"{vm.MemoryMiB}");
        Compare("cpu.mode", EnumNames.ToName(snapshot.CpuMode), EnumNames.ToName(vm.CpuMode));
        Compare("cpu.profile", EnumNames.ToName(snapshot.CpuProfile), EnumNames.ToName(vm.CpuProfile));
        Compare("memory.mode", EnumNames.ToName(snapshot.MemoryMode), EnumNames.ToName(vm.MemoryMode));
        Compare(
            "devices",
            DeviceRules.Describe(snapshot.Devices.Select(d => (d.Kind, d.Model, d.Slot, d.Name, d.SizeMiB))),
            DeviceRules.Describe(vm.Devices.Select(d => (d.Kind, d.Model, d.Slot, d.Name, d.SizeMiB))));
        return differences;
    }

    public static SnapshotResponse ToResponse(SnapshotEntity s) => new(
        s.Id,
        s.Name,
        s.Kind,
        s.ParentId,
        s.VmId,
        s.VmName,
        s.VmState,
        s.InstructionsRetired,
        s.PagesReferenced,
        s.ZeroPages,
        s.PagesNewlyStored,
        s.BytesStored,
        s.MachineState is not null,
        new SnapshotDefinitionResponse(
            s.ImageId,
            s.Vcpus,
            s.MemoryMiB,
            new CpuConfigResponse(s.CpuMode, s.CpuProfile),
            new MemoryConfigResponse(s.MemoryMode),
            s.InstructionBudget,
            [.. s.Devices.OrderBy(d => d.Slot).ThenBy(d => d.Name, StringComparer.Ordinal).Select(d => new SnapshotDeviceResponse(d.Kind, d.Model, d.Slot, d.Name, d.SizeMiB))]),
        s.FormatVersion,
        s.CreatedAt);

    /// <summary>The 422 for a damaged snapshot, naming the page.</summary>
    internal static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Damaged(SnapshotDamage damage) =>
        Problems.ApiProblem.Unprocessable(
            Problems.ProblemCode.SnapshotDamaged,
            damage.Reason + "; nothing was changed.",
            new Dictionary<string, object?>
            {
                ["snapshotId"] = damage.SnapshotId,
                ["guestAddress"] = damage.GuestAddress is { } address ? $"0x{address:x}" : null,
                ["hash"] = damage.Hash,
            });
}
