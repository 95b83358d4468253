using Microsoft.EntityFrameworkCore;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence;

/// <summary>How VMs are read when their whole definition is needed.</summary>
public static class VmQueries
{
    /// <summary>
    /// The VMs with their devices (and each passthrough device's host device) and their host: what a
    /// response shows and what <c>VmSupervisor.Spec</c> needs.
    /// </summary>
    public static IQueryable<VmEntity> WithDefinition(this IQueryable<VmEntity> vms) =>
        vms.Include(v => v.Devices).ThenInclude(d => d.HostDevice).Include(v => v.Host);
}
