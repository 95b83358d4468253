using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Techniques.Native;
using VirtApi.Hypervisor.Techniques.TrapAndEmulate;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Techniques;

/// <summary>Boots a VM under the technique its definition names.</summary>
public sealed class GuestExecutionFactory(CostModel cost) : IGuestExecutionFactory
{
    public GuestExecutionFactory()
        : this(CostModel.Default)
    {
    }

    public IGuestExecution Boot(VmSpec spec, IConsoleOutput console) => spec.CpuMode switch
    {
        CpuMode.Native => NativeExecution.Boot(spec, console),
        CpuMode.TrapAndEmulate => TrapAndEmulateExecution.Boot(spec, console, cost),
        // TechniqueCatalog refuses the others at the API; reaching here is a bug, not bad input.
        _ => throw new NotSupportedException($"cpu mode {spec.CpuMode} is not implemented by this build"),
    };
}
