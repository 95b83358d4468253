# Sv39 from S-mode: identity gigapages for devices and RAM, a 4 KiB page mapped through three
# levels whose A and D bits the hardware sets, load and store page faults (delegated to S) with
# stval, a store to a read-only page, U pages from S without and with SUM, an execute-only page
# read without and with MXR, and sfence.vma after a PTE change.
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
    la t1, page_a                     # VA 0x40000000: RW, A and D clear
    srli t1, t1, 12
    slli t1, t1, 10
    ori t2, t1, PTE_V | PTE_R | PTE_W
    sd t2, 0(t0)
    la t1, page_b                     # VA 0x40001000: read-only
    srli t1, t1, 12
    slli t1, t1, 10
    ori t2, t1, PTE_V | PTE_R | PTE_A
    sd t2, 8(t0)
    ori t2, t1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    sd t2, 16(t0)                     # VA 0x40002000: a U page (same frame)
    ori t2, t1, PTE_V | PTE_X | PTE_A
    sd t2, 24(t0)                     # VA 0x40003000: execute-only (same frame)
    la t1, page_a
    li t2, 0x1234
    sd t2, 0(t1)
    la t1, page_b
    li t2, 0x5678
    sd t2, 0(t1)
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
    li s1, 0x40000000
    la a0, l_load; ld a1, 0(s1); call show
    la t0, level0
    la a0, l_ad_before_store; ld a1, 0(t0); andi a1, a1, 0xff; call show
    li t1, 0x9999
    sd t1, 0(s1)
    la t0, level0
    la a0, l_ad_after_store; ld a1, 0(t0); andi a1, a1, 0xff; call show
    la t0, page_a
    la a0, l_phys; ld a1, 0(t0); call show
    li s2, 0x50000000
    ld t1, 0(s2)                      # unmapped: load page fault
    la a0, l_fault_cause; mv a1, s5; call show
    la a0, l_fault_tval; mv a1, s6; call show
    li s2, 0x40001000
    la a0, l_ro_load; ld a1, 0(s2); call show
    sd t1, 0(s2)                      # read-only: store page fault
    la a0, l_ro_cause; mv a1, s5; call show
    li s2, 0x40002000
    li s5, 0
    ld t1, 0(s2)                      # U page from S without SUM
    la a0, l_sum0; mv a1, s5; call show
    li t0, 1 << 18
    csrs sstatus, t0                  # SUM
    la a0, l_sum1; ld a1, 0(s2); call show
    li s2, 0x40003000
    li s5, 0
    ld t1, 0(s2)                      # execute-only without MXR
    la a0, l_mxr0; mv a1, s5; call show
    li t0, 1 << 19
    csrs sstatus, t0                  # MXR
    la a0, l_mxr1; ld a1, 0(s2); call show
    # remap VA 0x40000000 to page_b and flush: the new mapping is seen
    la t0, level0
    la t1, page_b
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    sd t1, 0(t0)
    sfence.vma
    la a0, l_remap; ld a1, 0(s1); call show
    li a0, 0
    call __exit

    .align 2
s_trap:
    csrr s5, scause
    csrr s6, stval
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    sret

    .section .rodata
l_load: .asciz "load-through-3-levels"
l_ad_before_store: .asciz "pte-flags-after-load"
l_ad_after_store: .asciz "pte-flags-after-store"
l_phys: .asciz "stored-value-in-frame"
l_fault_cause: .asciz "unmapped-load-scause"
l_fault_tval: .asciz "unmapped-load-stval"
l_ro_load: .asciz "read-only-load"
l_ro_cause: .asciz "read-only-store-scause"
l_sum0: .asciz "u-page-without-sum-scause"
l_sum1: .asciz "u-page-with-sum"
l_mxr0: .asciz "x-only-without-mxr-scause"
l_mxr1: .asciz "x-only-with-mxr"
l_remap: .asciz "after-remap-and-sfence"
    .bss
    .align 12
root: .zero 4096
level1: .zero 4096
level0: .zero 4096
page_a: .zero 4096
page_b: .zero 4096
