# Translations remembered in one privilege do not carry over to another (the hart's translation
# contexts, issue 6): S loads an S page 100 times, then U (running through a U alias of RAM) loads it
# and faults; U loads and stores a U page 100 times, then S without SUM loads it and faults; back in
# S, the S page still loads. The pages sit at TLB slots 40 and 41 (VA >> 12 mod 64), which no code,
# stack or device page of the program shares, so their translations stay in the TLB throughout.
    .equ PTE_V, 1
    .equ PTE_R, 2
    .equ PTE_W, 4
    .equ PTE_X, 8
    .equ PTE_U, 16
    .equ PTE_A, 64
    .equ PTE_D, 128
    .equ U_ALIAS, 0x40000000
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    # root[0]: devices, root[2]: RAM, both RWX for S; root[3]: RAM again at 0xC0000000, RWX for U
    la t0, root
    li t1, (0x0 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    sd t1, 0(t0)
    li t1, (0x80000000 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    sd t1, 16(t0)
    li t1, (0x80000000 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
    sd t1, 24(t0)
    # root[1] -> level1 -> level0: VA 0x40028000 (page_s, S), 0x40029000 (page_u, U)
    la t1, level1
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V
    sd t1, 8(t0)
    la t0, level1
    la t1, level0
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V
    sd t1, 0(t0)
    la t0, level0
    la t1, page_s
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    sd t1, 320(t0)
    la t1, page_u
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    sd t1, 328(t0)
    la t0, page_s
    li t1, 0x5555
    sd t1, 0(t0)
    la t0, page_u
    li t1, 0x7777
    sd t1, 0(t0)
    # delegate page faults and U ecalls to S, install the S handler, enable Sv39 and drop to S
    li t0, (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    csrw medeleg, t0
    la t0, s_trap
    csrw stvec, t0
    la t0, root
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0
    la t0, in_s
    csrw mepc, t0
    mret
in_s:
    li s1, 0x40028000
    li s2, 0x40029000
    li s3, 100
1:  ld s9, 0(s1)
    addi s3, s3, -1
    bnez s3, 1b
    # to U at u_code, through the U alias (nothing in between touches memory)
    la t0, u_code
    li t1, U_ALIAS
    add t0, t0, t1
    csrw sepc, t0
    li t0, 1 << 8
    csrc sstatus, t0
    li s5, 0
    li s7, 0
    li s8, 0
    sret
u_code:
    nop                               # the first instruction on a new page takes the general path
    nop
    ld t1, 0(s1)                      # the S page from U: load page fault, skipped
    mv s7, s5
    li s3, 100
1:  ld s8, 0(s2)
    sd s8, 8(s2)
    addi s3, s3, -1
    bnez s3, 1b
    ecall                             # back to S, at after_u
after_u:
    li s5, 0
    ld t1, 0(s2)                      # the U page from S without SUM: load page fault
    mv s10, s5
    la a0, l_s_from_s; mv a1, s9; call show
    la a0, l_s_from_u; mv a1, s7; call show
    la a0, l_u_from_u; mv a1, s8; call show
    la a0, l_u_from_s; mv a1, s10; call show
    la a0, l_s_again; ld a1, 0(s1); call show
    li a0, 0
    call __exit

    .align 2
s_trap:
    csrr s5, scause
    csrr s6, stval
    li t0, 8
    beq s5, t0, 1f
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    sret
1:  la t0, after_u                    # the U ecall: go on in S
    jr t0

    .section .rodata
l_s_from_s: .asciz "s-page-from-s"
l_s_from_u: .asciz "s-page-from-u-scause"
l_u_from_u: .asciz "u-page-from-u"
l_u_from_s: .asciz "u-page-from-s-without-sum-scause"
l_s_again: .asciz "s-page-from-s-again"
    .bss
    .align 12
root: .zero 4096
level1: .zero 4096
level0: .zero 4096
page_s: .zero 4096
page_u: .zero 4096
