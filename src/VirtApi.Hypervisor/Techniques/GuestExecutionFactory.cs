using VirtApi.Hypervisor.Techniques.Native;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Techniques;

/// <summary>Boots a VM under the technique its definition names.</summary>
public sealed class GuestExecutionFactory : IGuestExecutionFactory
{
    public IGuestExecution Boot(VmSpec spec, IConsoleOutput console) => spec.CpuMode switch
    {
        CpuMode.Native => NativeExecution.Boot(spec, console),
        // TechniqueCatalog refuses the others at the API; reaching here is a bug, not bad input.
        _ => throw new NotSupportedException($"cpu mode {spec.CpuMode} is not implemented by this build"),
    };
}
