using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Runtime;

namespace VirtApi.Endpoints;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text exposition format (version 0.0.4): each VM's counters
/// with the same names as <c>/stats</c>, its state, and each host's memory use. VM counters belong to
/// the current or last run and start again at a boot, which Prometheus reads as a counter reset.
/// </summary>
public static class MetricsApi
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", GetMetrics)
            .WithName(nameof(GetMetrics))
            .WithTags("Info")
            .WithSummary("Prometheus metrics")
            .WithDescription("Per-VM counters and state, per-host memory, in the Prometheus text format.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain");
        return app;
    }

    public static async Task<ContentHttpResult> GetMetrics(VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken)
    {
        var vms = await db.Vms.AsNoTracking().OrderBy(v => v.Name).ToListAsync(cancellationToken);
        var hosts = await db.Hosts.AsNoTracking().OrderBy(h => h.Name).ToListAsync(cancellationToken);
        var text = new StringBuilder();

        void Family(string name, string type, string help) => text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
        void Sample(string name, string labels, double value) => text.Append(CultureInfo.InvariantCulture, $"{name}{{{labels}}} {value}\n");

        var live = vms.Select(vm => (Vm: VmsApi.Live(vm, supervisor), Stats: supervisor.Find(vm.Id)?.Statistics ?? VmStatistics.Empty)).ToList();
        string VmLabels(Persistence.Entities.VmEntity vm) => $"vm=\"{vm.Name}\",id=\"{vm.Id}\"";
        void DeviceFamily(string name, string help, Func<VmDeviceStatistics, ulong> value)
        {
            Family(name, "counter", help);
            foreach (var (vm, stats) in live)
            {
                foreach (var device in stats.Devices ?? [])
                {
                    Sample(name, $"{VmLabels(vm)},device=\"{device.Name}\",model=\"{device.Model}\"", value(device));
                }
            }
        }

        Family("virtapi_vm_state", "gauge", "1 for the state the VM is in.");
        foreach (var (vm, _) in live)
        {
            Sample("virtapi_vm_state", $"{VmLabels(vm)},state=\"{EnumNames.ToName(vm.State)}\"", 1);
        }
        Family("virtapi_vm_instructions_retired_total", "counter", "Instructions retired, by the privilege level they ran at.");
        foreach (var (vm, stats) in live)
        {
            foreach (var (level, count) in stats.InstructionsByPrivilege.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Sample("virtapi_vm_instructions_retired_total", $"{VmLabels(vm)},privilege=\"{level}\"", count);
            }
        }
        Family("virtapi_vm_traps_total", "counter", "The guest's own exceptions, by cause, counted at trap entry.");
        foreach (var (vm, stats) in live)
        {
            foreach (var (cause, count) in stats.TrapsByCause.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Sample("virtapi_vm_traps_total", $"{VmLabels(vm)},cause=\"{cause}\"", count);
            }
        }
        Family("virtapi_vm_interrupts_total", "counter", "Interrupts taken, by cause.");
        foreach (var (vm, stats) in live)
        {
            foreach (var (cause, count) in stats.InterruptsByCause.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Sample("virtapi_vm_interrupts_total", $"{VmLabels(vm)},cause=\"{cause}\"", count);
            }
        }
        foreach (var (name, help, value) in new (string, string, Func<VmStatistics, double>)[]
        {
            ("virtapi_vm_tlb_hits_total", "Software TLB hits.", s => s.TlbHits),
            ("virtapi_vm_tlb_misses_total", "Software TLB misses.", s => s.TlbMisses),
            ("virtapi_vm_page_walks_total", "Page-table walks.", s => s.PageWalks),
            ("virtapi_vm_frames_touched_total", "4 KiB guest frames allocated on first write.", s => s.FramesTouched),
            ("virtapi_vm_host_seconds_total", "Host time spent running the guest.", s => s.HostSecondsRunning),
            ("virtapi_vm_silent_failures_total", "Deprivileged sstatus/mstatus accesses completed without a trap (x86-legacy).", s => s.SilentFailures),
            ("virtapi_vm_vmm_traps_total", "Traps into the VMM.", s => s.Vmm?.Traps ?? 0),
            ("virtapi_vm_vmm_reflected_traps_total", "Exceptions and interrupts the VMM delivered into the guest.", s => s.Vmm?.ReflectedTraps ?? 0),
            ("virtapi_vm_vmm_emulated_instructions_total", "Instructions the VMM completed for the guest.", s => s.Vmm?.EmulatedInstructions ?? 0),
            ("virtapi_vm_vmm_hidden_faults_total", "Shadow misses filled by the VMM.", s => s.Vmm?.HiddenFaults ?? 0),
            ("virtapi_vm_vmm_dirty_log_faults_total", "Stores logged dirty by a migration's log-dirty mode.", s => s.Vmm?.DirtyLogFaults ?? 0),
            ("virtapi_vm_vmm_guest_page_faults_total", "Guest page faults reflected into the guest.", s => s.Vmm?.GuestPageFaults ?? 0),
            ("virtapi_vm_vmm_shadow_flushes_total", "Whole shadow tables dropped.", s => s.Vmm?.ShadowFlushes ?? 0),
            ("virtapi_vm_vmm_cycles_total", "Estimated cycles of VMM work (cost model).", s => s.Vmm?.VmmCycles ?? 0),
        })
        {
            Family(name, "counter", help);
            foreach (var (vm, stats) in live)
            {
                Sample(name, VmLabels(vm), value(stats));
            }
        }
        Family("virtapi_vm_vmm_traps_by_cause_total", "counter", "Traps into the VMM, by class.");
        foreach (var (vm, stats) in live)
        {
            foreach (var (cause, count) in (stats.Vmm?.TrapsByCause ?? new Dictionary<string, ulong>()).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                Sample("virtapi_vm_vmm_traps_by_cause_total", $"{VmLabels(vm)},cause=\"{cause}\"", count);
            }
        }
        Family("virtapi_vm_device_exits_total", "counter", "Device-register accesses that exited to the VMM, by device.");
        foreach (var (vm, stats) in live)
        {
            foreach (var device in stats.Vmm?.Devices ?? [])
            {
                Sample("virtapi_vm_device_exits_total", $"{VmLabels(vm)},device=\"{device.Name}\",model=\"{device.Model}\"", device.Exits);
            }
        }
        DeviceFamily("virtapi_vm_device_direct_accesses_total", "Register accesses that reached a VM device with no VMM on the path.", d => d.DirectAccesses);
        DeviceFamily("virtapi_vm_device_requests_total", "Requests a VM device completed (virtio chains, ATA commands).", d => d.Requests);
        DeviceFamily("virtapi_vm_device_bytes_total", "Payload bytes a VM device moved between guest and medium.", d => d.Bytes);
        Family("virtapi_host_memory_used_mib", "gauge", "Memory charged to the host by the VMs placed on it.");
        foreach (var host in hosts)
        {
            Sample("virtapi_host_memory_used_mib", $"host=\"{host.Name}\"", host.MemoryChargedMiB);
        }
        Family("virtapi_host_memory_mib", "gauge", "Machine memory of the host.");
        foreach (var host in hosts)
        {
            Sample("virtapi_host_memory_mib", $"host=\"{host.Name}\"", host.MemoryMiB);
        }
        return TypedResults.Text(text.ToString(), "text/plain; version=0.0.4", Encoding.UTF8);
    }
}
