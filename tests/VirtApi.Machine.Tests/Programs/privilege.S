# Privilege: ecall from M, S and U with medeleg routing U/S ecalls to S; mret and sret
# transitions and the cause, epc and previous-privilege fields; illegal instructions for a CSR
# above the current privilege and for a write to a read-only CSR; a software interrupt (CLINT
# msip) taken through a vectored mtvec.
main:
    li s8, 0
    addi sp, sp, -16
    sd ra, 8(sp)
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
    li t0, (1 << 8) | (1 << 9)       # delegate ecall from U and S to S
    csrw medeleg, t0
    ecall                             # from M: not delegable
    la a0, l_m_cause; mv a1, s5; call show
    # drop to S
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0                  # MPP = S
    la t0, in_s
    csrw mepc, t0
    mret
in_s:
    ecall                             # from S: delegated to S
    la a0, l_s_cause; mv a1, s5; call show
    la a0, l_s_spp; mv a1, s6; call show
    csrr t0, mstatus                  # illegal from S: traps to M
    la a0, l_illegal_cause; mv a1, s5; call show
    la a0, l_illegal_tval; mv a1, s7; call show
    # drop to U through sret
    li t0, 1 << 8
    csrc sstatus, t0                  # SPP = U
    la t0, in_u
    csrw sepc, t0
    sret
in_u:
    ecall                             # from U: delegated to S
    la a0, l_u_cause; mv a1, s5; call show
    la a0, l_u_spp; mv a1, s6; call show
    li s8, 1                          # ask the M handler to resume in M at back_in_m
    csrr t0, mstatus                  # illegal from U, not delegated: traps to M
back_in_m:
    la a0, l_back; mv a1, s5; call show
    csrw mhartid, zero                # read-only: illegal
    la a0, l_ro_cause; mv a1, s5; call show
    # vectored mtvec: a machine software interrupt lands at base + 4 * 3
    la t0, vectors
    ori t0, t0, 1
    csrw mtvec, t0
    li t0, 1 << 3
    csrs mie, t0
    csrsi mstatus, 8                  # MIE
    li t0, 0x2000000
    li t1, 1
    li s9, 0
    sw t1, 0(t0)                      # msip = 1: the interrupt is pending
1:  beqz s9, 1b                       # interrupts are asynchronous: wait until it is taken
    la a0, l_msi; mv a1, s5; call show
    li a0, 0
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

    .align 2
m_handler:
    csrr s5, mcause
    csrr s7, mtval
    bnez s8, 2f
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
2:  li s8, 0
    la t0, back_in_m
    csrw mepc, t0
    li t0, 3 << 11
    csrs mstatus, t0                  # MPP = M
    mret

    .align 2
s_handler:
    csrr s5, scause
    csrr s6, sstatus
    srli s6, s6, 8
    andi s6, s6, 1                    # SPP
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    sret

    .align 6
vectors:
    j m_handler                       # 0: exceptions
    j m_handler
    j m_handler
    j msi_handler                     # 3: machine software interrupt
msi_handler:
    csrr s5, mcause
    li s9, 1
    li t0, 0x2000000
    sw zero, 0(t0)                    # clear msip
    mret

    .section .rodata
l_m_cause: .asciz "ecall-from-m-cause"
l_s_cause: .asciz "ecall-from-s-scause"
l_s_spp: .asciz "ecall-from-s-spp"
l_illegal_cause: .asciz "csr-from-s-mcause"
l_illegal_tval: .asciz "csr-from-s-mtval"
l_u_cause: .asciz "ecall-from-u-scause"
l_u_spp: .asciz "ecall-from-u-spp"
l_back: .asciz "back-in-m-cause"
l_ro_cause: .asciz "write-read-only-mcause"
l_msi: .asciz "software-interrupt-mcause"
