# Sv39 translations the hot path remembers (the hart's translation caches, issue 6). Each mapping is
# first used in a loop, so the predecoded loop holds its translation, then changed: a remapped PTE is
# seen after sfence.vma (all, then one address), clearing W and sfence.vma makes the next store fault,
# clearing SUM or MXR makes the next access fault, a store to a page loaded from with D clear still
# sets D, and calls to code on another page run under translation.
    .equ PTE_V, 1
    .equ PTE_R, 2
    .equ PTE_W, 4
    .equ PTE_X, 8
    .equ PTE_U, 16
    .equ PTE_A, 64
    .equ PTE_D, 128
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    # root[0]: gigapage 0x0 (devices), root[2]: gigapage 0x80000000 (RAM), both RWX, A and D set
    la t0, root
    li t1, (0x0 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    sd t1, 0(t0)
    li t1, (0x80000000 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    sd t1, 16(t0)
    # root[1] -> level1 -> level0: VA 0x40000000 + n*4096
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
    la a0, page_a                     # VA 0x40000000: page_a, RW
    li a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    call pte
    sd a0, 0(t0)
    la a0, page_b                     # VA 0x40001000: page_b, RW
    call pte
    sd a0, 8(t0)
    la a0, page_u                     # VA 0x40002000: a U page, RW
    li a1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    call pte
    sd a0, 16(t0)
    la a0, page_x                     # VA 0x40003000: execute-only
    li a1, PTE_V | PTE_X | PTE_A
    call pte
    sd a0, 24(t0)
    la a0, page_c                     # VA 0x40004000: RW with D clear
    li a1, PTE_V | PTE_R | PTE_W | PTE_A
    call pte
    sd a0, 32(t0)
    la t0, page_a
    li t1, 0x1111
    sd t1, 0(t0)
    la t0, page_b
    li t1, 0x2222
    sd t1, 0(t0)
    la t0, page_c
    li t1, 0x3333
    sd t1, 0(t0)
    la t0, page_u
    li t1, 0x4444
    sd t1, 0(t0)
    la t0, page_x
    li t1, 0x5555
    sd t1, 0(t0)
    # delegate page faults to S, install the S handler, enable Sv39 and drop to S
    li t0, (1 << 12) | (1 << 13) | (1 << 15)
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
    # 1. VA 0x40000000 loaded and stored 100 times, remapped to page_b, sfence.vma (all): page_b is seen
    li s1, 0x40000000
    li s3, 100
1:  ld t1, 0(s1)
    sd t1, 8(s1)
    addi s3, s3, -1
    bnez s3, 1b
    la a0, l_before_remap; ld a1, 0(s1); call show
    la a0, page_b
    li a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    call pte
    la t0, level0
    sd a0, 0(t0)
    sfence.vma
    la a0, l_remap_all; ld a1, 0(s1); call show
    li t1, 0x2223
    sd t1, 0(s1)
    la t0, page_b
    la a0, l_store_after_remap; ld a1, 0(t0); call show
    # 2. back to page_a, sfence.vma of that address only
    li s3, 100
1:  ld t1, 0(s1)
    addi s3, s3, -1
    bnez s3, 1b
    la a0, page_a
    li a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    call pte
    la t0, level0
    sd a0, 0(t0)
    sfence.vma s1
    la a0, l_remap_one; ld a1, 0(s1); call show
    # 3. VA 0x40001000 stored 100 times, W cleared, sfence.vma of the address: the next store faults
    li s2, 0x40001000
    li s3, 100
    li t1, 0x2224
1:  sd t1, 0(s2)
    addi s3, s3, -1
    bnez s3, 1b
    la a0, page_b
    li a1, PTE_V | PTE_R | PTE_A | PTE_D
    call pte
    la t0, level0
    sd a0, 8(t0)
    sfence.vma s2
    li s5, 0
    li s6, 0
    li t1, 0x2225
    sd t1, 0(s2)
    la a0, l_downgrade_cause; mv a1, s5; call show
    la a0, l_downgrade_tval; mv a1, s6; call show
    la a0, l_downgrade_load; ld a1, 0(s2); call show
    # 4. the U page from S with SUM, 100 times, then SUM cleared: load and store fault
    li s2, 0x40002000
    li t0, 1 << 18
    csrs sstatus, t0
    li s3, 100
1:  ld t1, 0(s2)
    sd t1, 8(s2)
    addi s3, s3, -1
    bnez s3, 1b
    la a0, l_sum1; ld a1, 0(s2); call show
    li t0, 1 << 18
    csrc sstatus, t0
    li s5, 0
    ld t1, 0(s2)
    la a0, l_sum0_load; mv a1, s5; call show
    li s5, 0
    sd t1, 0(s2)
    la a0, l_sum0_store; mv a1, s5; call show
    # 5. the execute-only page with MXR, 100 times, then MXR cleared: the load faults
    li s2, 0x40003000
    li t0, 1 << 19
    csrs sstatus, t0
    li s3, 100
1:  ld t1, 0(s2)
    addi s3, s3, -1
    bnez s3, 1b
    la a0, l_mxr1; ld a1, 0(s2); call show
    li t0, 1 << 19
    csrc sstatus, t0
    li s5, 0
    ld t1, 0(s2)
    la a0, l_mxr0; mv a1, s5; call show
    # 6. VA 0x40004000 (D clear) loaded 100 times, then stored: D is set
    li s2, 0x40004000
    li s3, 100
1:  ld t1, 0(s2)
    addi s3, s3, -1
    bnez s3, 1b
    la t0, level0
    la a0, l_d_before; ld a1, 32(t0); andi a1, a1, 0xff; call show
    li t1, 0x3334
    sd t1, 0(s2)
    la t0, level0
    la a0, l_d_after; ld a1, 32(t0); andi a1, a1, 0xff; call show
    la t0, page_c
    la a0, l_d_value; ld a1, 0(t0); call show
    # 7. code on another page, called 100 times
    li a0, 0
    li s3, 100
1:  call far
    addi s3, s3, -1
    bnez s3, 1b
    mv a1, a0
    la a0, l_far; call show
    li a0, 0
    call __exit

# pte(a0 = physical page address, a1 = flags): the leaf PTE mapping it
pte:
    srli a0, a0, 12
    slli a0, a0, 10
    or a0, a0, a1
    ret

    .align 2
s_trap:
    csrr s5, scause
    csrr s6, stval
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    sret

    .balign 4096
far:
    addi a0, a0, 3
    ret

    .section .rodata
l_before_remap: .asciz "before-remap"
l_remap_all: .asciz "after-remap-and-sfence-all"
l_store_after_remap: .asciz "store-after-remap-in-new-frame"
l_remap_one: .asciz "after-remap-and-sfence-one"
l_downgrade_cause: .asciz "store-after-w-cleared-scause"
l_downgrade_tval: .asciz "store-after-w-cleared-stval"
l_downgrade_load: .asciz "load-after-w-cleared"
l_sum1: .asciz "u-page-with-sum"
l_sum0_load: .asciz "u-page-load-after-sum-cleared-scause"
l_sum0_store: .asciz "u-page-store-after-sum-cleared-scause"
l_mxr1: .asciz "x-only-with-mxr"
l_mxr0: .asciz "x-only-after-mxr-cleared-scause"
l_d_before: .asciz "pte-flags-after-loads"
l_d_after: .asciz "pte-flags-after-store"
l_d_value: .asciz "stored-value-in-frame"
l_far: .asciz "calls-to-another-page"
    .bss
    .align 12
root: .zero 4096
level1: .zero 4096
level0: .zero 4096
page_a: .zero 4096
page_b: .zero 4096
page_c: .zero 4096
page_u: .zero 4096
page_x: .zero 4096
