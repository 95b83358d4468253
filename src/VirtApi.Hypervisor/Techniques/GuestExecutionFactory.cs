using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Techniques.Native;
using VirtApi.Hypervisor.Techniques.TrapAndEmulate;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Memory;

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

    public IMigrationTarget PrepareTarget(VmSpec spec, ulong machineFrames) => spec.CpuMode switch
    {
        CpuMode.Native => new NativeMigrationTarget(spec, machineFrames, this),
        CpuMode.TrapAndEmulate => new TrapAndEmulateMigrationTarget(spec, machineFrames, this),
        _ => throw new NotSupportedException($"cpu mode {spec.CpuMode} is not implemented by this build"),
    };

    public IGuestExecution Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages, IConsoleOutput console)
    {
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        if (state.CpuMode != spec.CpuMode || state.Vcpus != spec.Vcpus || state.GuestMemoryBytes != guestBytes)
        {
            throw new SnapshotFormatException(
                $"the state was saved from a {state.Vcpus}-hart {state.CpuMode} VM with {state.GuestMemoryBytes >> 20} MiB; this VM is a {spec.Vcpus}-hart {spec.CpuMode} VM with {spec.MemoryMiB} MiB");
        }
        var checkedPages = pages.Select(page =>
            page.Bytes.Length == SparseRam.FrameSize && page.Address % SparseRam.FrameSize == 0 && page.Address - VirtBoard.RamBase < guestBytes
                ? page
                : throw new SnapshotFormatException($"guest page 0x{page.Address:x} ({page.Bytes.Length} bytes) is not a 4 KiB page of guest RAM"));
        try
        {
            return spec.CpuMode switch
            {
                CpuMode.Native => NativeExecution.Restore(spec, state, checkedPages, console),
                CpuMode.TrapAndEmulate => TrapAndEmulateExecution.Restore(spec, state, checkedPages, console, cost),
                _ => throw new NotSupportedException($"cpu mode {spec.CpuMode} is not implemented by this build"),
            };
        }
        catch (ArgumentException exception)
        {
            // A component refused its saved state (an array of the wrong length, an entry out of range).
            throw new SnapshotFormatException($"the saved state does not fit this VM: {exception.Message}");
        }
    }
}
