using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Devices;

/// <summary>
/// Turns device requests that passed <see cref="DeviceRules.Validate"/> into a VM's new devices:
/// passthrough devices checked against the host's inventory and their holders, then each device given
/// the lowest free slot of its slot space, in request order. Callers run it inside the write
/// transaction that stores the result, so two requests never take the same slot or host device.
/// </summary>
internal static class DeviceAssignment
{
    /// <summary>The new devices and the VM's host; or the field errors (400); or the problem (409).</summary>
    /// <param name="Devices">The devices to add, slots and names set, not yet tied to the VM.</param>
    /// <param name="HostId">The VM's host: the given one, or else the host of the first passthrough device.</param>
    /// <param name="Errors">Field errors, by field.</param>
    /// <param name="Problem">A conflict: a host device held, a slot space full.</param>
    public sealed record Plan(List<VmDeviceEntity> Devices, Guid? HostId, Dictionary<string, string[]>? Errors, ProblemHttpResult? Problem);

    /// <param name="db">The database (host devices are read tracked, so the new devices can refer to them).</param>
    /// <param name="vmName">The VM's name, for the problems.</param>
    /// <param name="hostId">The VM's host; null for a new VM placed by memory, which then goes where its passthrough devices are.</param>
    /// <param name="existing">The devices the VM has.</param>
    /// <param name="requests">The devices to add.</param>
    /// <param name="field">The field prefix of request <c>i</c> (<c>""</c> or <c>devices[i].</c>).</param>
    /// <param name="now">The time the devices are attached.</param>
    /// <param name="cancellationToken">Cancels the queries.</param>
    public static async Task<Plan> PlanAsync(
        VirtApiDbContext db, string vmName, Guid? hostId, IReadOnlyCollection<VmDeviceEntity> existing, IReadOnlyList<AttachDeviceRequest> requests,
        Func<int, string> field, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (requests.Count == 0)
        {
            return new Plan([], hostId, null, null);
        }
        var wanted = requests.Select(r => r.HostDeviceId).OfType<Guid>().Distinct().ToList();
        var hostDevices = wanted.Count == 0
            ? []
            : await db.HostDevices.Where(h => wanted.Contains(h.Id)).ToDictionaryAsync(h => h.Id, cancellationToken);
        hostId ??= requests.Select(r => r.HostDeviceId is { } id && hostDevices.TryGetValue(id, out var device) ? device.HostId : (Guid?)null).FirstOrDefault(h => h is not null);
        var hostIds = hostDevices.Values.Select(h => h.HostId).Append(hostId ?? Guid.Empty).Distinct().ToList();
        var hostNames = await db.Hosts.AsNoTracking().Where(h => hostIds.Contains(h.Id)).ToDictionaryAsync(h => h.Id, h => h.Name, cancellationToken);

        var errors = new Dictionary<string, string[]>();
        var given = new Dictionary<Guid, int>();
        for (var i = 0; i < requests.Count; i++)
        {
            if (requests[i].HostDeviceId is not { } id)
            {
                continue;
            }
            var at = field(i) + "hostDeviceId";
            if (!hostDevices.TryGetValue(id, out var device))
            {
                errors[at] = [$"no host device has id '{id}'"];
            }
            else if (!given.TryAdd(id, i))
            {
                errors[at] = [$"host device '{device.Name}' is already given to {field(given[id]).TrimEnd('.')}"];
            }
            else if (device.HostId != hostId)
            {
                errors[at] = [$"host device '{device.Name}' is on host '{hostNames[device.HostId]}', not on the VM's host '{(hostId is { } h && hostNames.TryGetValue(h, out var name) ? name : hostId)}'"];
            }
            else if (device.Kind != requests[i].Kind)
            {
                errors[at] = [$"host device '{device.Name}' is a {EnumNames.ToName(device.Kind)} device, not a {EnumNames.ToName(requests[i].Kind!.Value)} device"];
            }
        }
        if (errors.Count > 0)
        {
            return new Plan([], hostId, errors, null);
        }
        if (await HolderProblemAsync(db, hostDevices.Values, cancellationToken) is { } held)
        {
            return new Plan([], hostId, null, held);
        }

        var devices = new List<VmDeviceEntity>();
        var taken = existing.Select(d => (d.Model, d.Slot, d.Name)).ToList();
        foreach (var request in requests)
        {
            var (kind, model) = (request.Kind!.Value, request.Model!.Value);
            if (DeviceRules.FreeSlot(taken.Select(t => (t.Model, t.Slot)), model) is not { } slot)
            {
                return new Plan([], hostId, null, DeviceRules.SlotsFull(vmName, model, taken.Where(t => DeviceRules.IsVirtio(t.Model) == DeviceRules.IsVirtio(model)).OrderBy(t => t.Slot).Select(t => t.Name)));
            }
            var name = DeviceRules.NameOf(kind, model, slot);
            taken.Add((model, slot, name));
            devices.Add(new VmDeviceEntity
            {
                Id = Guid.CreateVersion7(now),
                Kind = kind,
                Model = model,
                Slot = slot,
                Name = name,
                HostDeviceId = request.HostDeviceId,
                HostDevice = request.HostDeviceId is { } id ? hostDevices[id] : null,
                SizeMiB = kind == DeviceKind.Block && model != DeviceModel.Passthrough ? request.SizeMiB ?? DeviceRules.DefaultDiskMiB : null,
                CreatedAt = now,
            });
        }
        return new Plan(devices, hostId, null, null);
    }

    /// <summary>The 409 when a VM device already holds one of <paramref name="hostDevices"/>; null when all are free.</summary>
    public static async Task<ProblemHttpResult?> HolderProblemAsync(VirtApiDbContext db, IEnumerable<HostDeviceEntity> hostDevices, CancellationToken cancellationToken)
    {
        var byId = hostDevices.ToDictionary(h => h.Id);
        if (byId.Count == 0)
        {
            return null;
        }
        var ids = byId.Keys.ToList();
        var holder = await db.VmDevices.AsNoTracking()
            .Where(d => d.HostDeviceId != null && ids.Contains(d.HostDeviceId.Value))
            .Join(db.Vms, d => d.VmId, v => v.Id, (d, v) => new { HostDeviceId = d.HostDeviceId!.Value, VmId = v.Id, VmName = v.Name })
            .FirstOrDefaultAsync(cancellationToken);
        return holder is null ? null : DeviceRules.HostDeviceAssigned(byId[holder.HostDeviceId], holder.VmId, holder.VmName);
    }
}
