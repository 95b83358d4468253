using System.Text;
using VirtApi.Assembler;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Tests.Differential;
using VirtApi.Machine.Traps;
using HartType = VirtApi.Machine.Hart.Hart;

namespace VirtApi.Machine.Tests.Core;

/// <summary>The observation points a hypervisor hooks: trap entry (with take-over), page walks, device accesses, RAM stores.</summary>
public sealed class MonitorTests
{
    private sealed class RecordingMonitor : IHartMonitor, IBusMonitor
    {
        public List<TrapEvent> Traps { get; } = [];

        public int Walks { get; private set; }

        public int WalkReferences { get; private set; }

        public List<(ulong Offset, ulong Value)> UartWrites { get; } = [];

        public int RamStores { get; private set; }

        public bool OnTrap(HartType hart, in TrapEvent trap)
        {
            Traps.Add(trap);
            if (trap.Cause != (ulong)ExceptionCause.EnvironmentCallFromM)
            {
                return false;
            }
            // Answer the ecall the way a VMM would: a0 = a0 * 2, resume after the instruction.
            hart[10] *= 2;
            hart.Pc = trap.Pc + 4;
            return true;
        }

        public void OnPageWalk(HartType hart, ulong virtualAddress, int memoryReferences)
        {
            Walks++;
            WalkReferences += memoryReferences;
        }

        public void OnDeviceAccess(AddressRange range, ulong offset, int size, bool write, ulong value)
        {
            if (range.Start == 0x1000_0000 && write)
            {
                UartWrites.Add((offset, value));
            }
        }

        public void OnRamStore(ulong address, int size) => RamStores++;
    }

    private static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    [Fact]
    public void Monitor_TakesOverEcall_AtTrapEntry_AndTheGuestSeesItsAnswer()
    {
        var monitor = new RecordingMonitor();
        var outcome = GuestProgram.Run(Assemble("""
            .globl _start
            _start:
                li a0, 21
                ecall                     # no handler installed: only the monitor can answer
                li t0, 0x10000000
                sb a0, 0(t0)
                la t0, scratch
                sd a0, 0(t0)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
                .data
            scratch: .dword 0
            """), beforeRun: board =>
        {
            board.Harts[0].Monitor = monitor;
            board.Bus.Monitor = monitor;
        });
        Assert.Equal([42], outcome.Console);
        var trap = Assert.Single(monitor.Traps);
        Assert.Equal((ulong)ExceptionCause.EnvironmentCallFromM, trap.Cause);
        Assert.Equal(PrivilegeLevel.Machine, trap.From);
        Assert.Equal(1UL, outcome.Board.Harts[0].Counters.Exceptions[(int)ExceptionCause.EnvironmentCallFromM]);
        Assert.Equal([(0UL, 42UL)], monitor.UartWrites);
        Assert.Equal(1, monitor.RamStores);
    }

    [Fact]
    public void Monitor_SeesEveryPageWalk_WithItsMemoryReferences()
    {
        var monitor = new RecordingMonitor();
        var elf = Assemble(File.ReadAllText(Path.Combine(GuestProgram.Folder, "prelude.S")) + File.ReadAllText(Path.Combine(GuestProgram.Folder, "sv39.S")));
        var outcome = GuestProgram.Run(elf, beforeRun: board => board.Harts[0].Monitor = monitor);
        var counters = outcome.Board.Harts[0].Counters;
        Assert.True(monitor.Walks > 0);
        Assert.Equal(counters.PageWalks, (ulong)monitor.Walks);
        // Gigapage walks read one PTE, the 4 KiB pages three: every walk read 1 to 3.
        Assert.InRange(monitor.WalkReferences, monitor.Walks, 3 * monitor.Walks);
        Assert.Equal(Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(GuestProgram.Folder, "sv39.expected"))), Encoding.ASCII.GetString(outcome.Console));
    }
}
