using System.Text;
using VirtApi.Assembler;
using VirtApi.Machine.Tests.Differential;

namespace VirtApi.Machine.Tests.Core;

public sealed class ReservationTests
{
    [Fact]
    public void StoreByAnotherHart_BreaksTheReservation_SoScFails()
    {
        // Hart 0 reserves `cell`, waits until hart 1 has stored to it and raised `flag`, then tries SC.
        var assembled = RiscVAssembler.Assemble("""
            .globl _start
            _start:
                csrr t0, mhartid
                la s0, cell
                la s1, flag
                bnez t0, other
                lr.d t1, (s0)
            1:  ld t2, 0(s1)
                beqz t2, 1b
                li t3, 42
                sc.d a0, t3, (s0)
                li t0, 0x10000000
                addi a0, a0, 48
                sb a0, 0(t0)
                ld a1, 0(s0)
                addi a1, a1, 48
                sb a1, 0(t0)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            other:
                li t1, 7
                sd t1, 0(s0)
                li t1, 1
                sd t1, 0(s1)
            2:  wfi
                j 2b
                .data
                .align 3
            cell: .dword 0
            flag: .dword 0
            """);
        Assert.True(assembled.Succeeded, string.Join("\n", assembled.Errors));
        var outcome = GuestProgram.Run(assembled.Elf, harts: 2);
        // SC failed (1) and the cell keeps hart 1's 7.
        Assert.Equal("17", Encoding.ASCII.GetString(outcome.Console));
    }
}
