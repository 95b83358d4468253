# demo-kernel: a small OS: M-mode boot, an S-mode kernel on Sv39, two U-mode tasks with system calls, timer preemption and demand paging; exits 0 when every check held.
#
# M-mode boots, opens PMP, delegates traps and hands the timer to S-mode (Sstc), then drops to S.
# The S-mode kernel maps RAM with a 1 GiB superpage and the devices with 2 MiB megapages, gives
# each task its own Sv39 table (ASID = pid) and runs them round-robin on timer ticks and yield.
# Task code and a 16 KiB buffer per task are paged in on first touch from a frame allocator.
# Critical sections clear sstatus.SIE and read it back: a monitor that drops that write (as
# pre-2005 x86 drops POPF's IF in ring 1+) makes the kernel print "interrupt state lost".
# Outside critical sections the kernel runs with SIE set; a tick taken there only asks for a
# reschedule on the way back to U (kernelvec).
# Task lines are written atomically; the summary comes in a fixed order, and only the line
# starting "demo-kernel: timing:" depends on where the timer fell (mtime is wall-clock on QEMU).
# Section numbers refer to the RISC-V privileged specification (20211203).
    .equ UART, 0x10000000
    .equ FINISHER, 0x100000
    .equ CLINT, 0x2000000
    .equ PERIOD, 300                 # time slice in mtime ticks (one tick per 100 instructions here)
    .equ SIE, 2                      # sstatus.SIE (4.1.1)
    .equ PTE_V, 1                    # PTE bits (4.3.1, 4.4.1)
    .equ PTE_R, 2
    .equ PTE_W, 4
    .equ PTE_X, 8
    .equ PTE_U, 16
    .equ PTE_G, 32
    .equ PTE_A, 64
    .equ PTE_D, 128
    .equ KERNEL_RWX, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D
    .equ DEVICE_RW, PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D
    .equ USER_RX, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    .equ USER_RW, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    .equ CODE_VA, 0x40000000         # user space: gigabyte 1 (root[1]), one level-0 table per task
    .equ BUF_VA, 0x40010000          # demand-paged, never mapped up front
    .equ BUF_SIZE, 16384
    .equ STACK_VA, 0x40080000        # one page, mapped when the task is created
    .equ FRAMES, 18                  # kernel root and device table, then per task: root, level 1,
                                     # level 0, stack and the four buffer pages
    .equ EXPECTED_CRC, 0x93a3853d    # CRC-32 of task A's xorshift32 buffer (zlib.crc32)
    .equ L1_FINISHER, (FINISHER >> 21) * 8
    .equ L1_CLINT, (CLINT >> 21) * 8
    .equ L1_UART, (UART >> 21) * 8
    .equ SYS_WRITE, 64               # system call numbers (a7) as on Linux
    .equ SYS_EXIT, 93
    .equ SYS_YIELD, 124
    .equ SYS_GETPID, 172
    .equ T_SEPC, 256                 # task control block: x0..x31 at 8 * n, then these
    .equ T_SATP, 264
    .equ T_STATE, 272                # 0 runnable, 1 exited
    .equ T_EXIT, 280
    .equ T_PID, 288
    .equ T_L0, 296                   # level-0 table of the user gigabyte
    .equ T_FAULTS, 304               # page faults by cause: +0 fetch (12), +8 load (13), +24 store (15)
    .equ T_PREEMPT, 336
    .equ T_SYSCALLS, 344
    .equ T_SIZE, 512

    .text
    .globl _start
_start:
    csrr t0, mhartid                 # one hart runs the kernel; the others wait for ever
    bnez t0, park
    la sp, kstack_top
    la t0, m_trap                    # 3.1.7: after boot every M-mode trap is unexpected
    csrw mtvec, t0
    csrw mie, zero
    la a0, s_boot; call kputs
    # 3.1.6.1: mstatus.MIE is the global M-mode enable. With mie = 0 nothing can fire, so set it,
    # clear it and read it back: a deprivileging monitor that dropped the clear leaves it at 1.
    csrsi mstatus, 8
    csrci mstatus, 8
    csrr t0, mstatus
    andi t0, t0, 8
    beqz t0, 1f
    call state_lost
1:  li t0, -1                        # 3.7.1: one NAPOT entry over all memory (QEMU enforces PMP)
    csrw pmpaddr0, t0
    li t0, 0x1f; csrw pmpcfg0, t0
    # 3.1.8: U ecalls, illegal instructions and page faults go straight to S, as do the
    # supervisor software and timer interrupts.
    li t0, (1 << 2) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15); csrw medeleg, t0
    li t0, (1 << 1) | (1 << 5); csrw mideleg, t0
    # The timer: Sstc. With menvcfg.STCE (3.1.18) and mcounteren.TM (3.1.11) S-mode reads time
    # and writes stimecmp itself, and STIP follows time >= stimecmp. No M-mode timer handler
    # forwards ticks through mip.STIP, so after this mret the kernel never enters M-mode again,
    # which keeps it simple to run deprivileged.
    li t0, 2; csrw mcounteren, t0
    li t0, 1; slli t0, t0, 63
    csrs menvcfg, t0
    li t0, -1; csrw stimecmp, t0
    csrw satp, zero
    li t0, 3 << 11                   # 3.1.6.1: MPP = S, mret to s_main
    csrc mstatus, t0
    li t0, 1 << 11; csrs mstatus, t0
    la t0, s_main; csrw mepc, t0
    la a0, s_mret; call kputs
    mret
park:
    wfi
    j park

m_trap:
    la a0, s_mtrap; call kputs
    csrr a0, mcause; call kputdec
    li a0, 10; call kputc
    li t0, (98 << 16) | 0x3333; li t1, FINISHER; sw t0, 0(t1)
    j park

# ---- S-mode kernel --------------------------------------------------------------------------
s_main:
    la sp, kstack_top
    la t0, kernelvec                 # 4.1.2: traps taken while in the kernel
    csrw stvec, t0
    la t0, user_text_end             # the user image must fit the one page mapped for it
    la t1, user_text
    sub t0, t0, t1
    li t1, 4096
    bgtu t0, t1, kpanic
    la t0, frames
    la t1, frame_next
    sd t0, 0(t1)
    # 4.4 Sv39: the kernel table. root[2] maps 0x80000000 (RAM) with a 1 GiB superpage; root[0]
    # points to a level-1 table mapping the finisher, CLINT and UART with 2 MiB megapages.
    # All are global (G) and without U, so U-mode cannot touch them.
    call alloc_frame
    mv s1, a0
    la t0, kernel_root
    sd s1, 0(t0)
    li t0, (0x80000000 >> 12 << 10) | KERNEL_RWX
    sd t0, 16(s1)
    call alloc_frame
    srli t0, a0, 12; slli t0, t0, 10; ori t0, t0, PTE_V; sd t0, 0(s1)
    li t0, (FINISHER >> 21 << 19) | DEVICE_RW; sd t0, L1_FINISHER(a0)
    li t0, (CLINT >> 21 << 19) | DEVICE_RW; sd t0, L1_CLINT(a0)
    li t0, (UART >> 21 << 19) | DEVICE_RW; sd t0, L1_UART(a0)
    srli t0, s1, 12                  # 4.1.11: satp = Sv39 (8), ASID 0, root PPN
    li t1, 8; slli t1, t1, 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    la a0, s_sv39; li a1, -1; call kline
    la a0, tasks
    li a1, 1
    la a2, task_a
    call task_create
    la a0, tasks
    addi a0, a0, T_SIZE
    li a1, 2
    la a2, task_b
    call task_create
    sfence.vma                       # 4.2.1: order the new tables before any walk of them
    la a0, s_start; li a1, -1; call kline
    li t0, 1 << 5                    # 4.1.3: sie.STIE
    csrs sie, t0
    csrsi sstatus, SIE               # the kernel runs with interrupts on outside critical sections
    call crit_enter                  # the run queue is shared with the timer path
    la s0, tasks
    call arm_timer
    j user_return

# task_create(a0 = TCB, a1 = pid, a2 = entry): its own root table sharing the kernel's entries,
# a level-1 and a level-0 table for the user gigabyte, and a mapped stack. Code and buffer come later.
task_create:
    addi sp, sp, -32; sd ra, 24(sp)
    sd s0, 16(sp)
    sd s1, 8(sp)
    sd s2, 0(sp)
    mv s0, a0
    sd a1, T_PID(s0)
    sd a1, 80(s0)                    # a0 at entry: the pid the task should see from getpid
    la t0, user_text
    sub a2, a2, t0
    li t0, CODE_VA
    add a2, a2, t0
    sd a2, T_SEPC(s0)
    li t0, STACK_VA + 4096
    sd t0, 16(s0)
    call alloc_frame
    mv s1, a0
    la t0, kernel_root
    ld t0, 0(t0)
    ld t1, 0(t0)
    sd t1, 0(s1)
    ld t1, 16(t0)
    sd t1, 16(s1)
    call alloc_frame
    mv s2, a0
    srli t0, s2, 12; slli t0, t0, 10; ori t0, t0, PTE_V; sd t0, 8(s1)
    call alloc_frame
    sd a0, T_L0(s0)
    srli t0, a0, 12; slli t0, t0, 10; ori t0, t0, PTE_V; sd t0, 0(s2)
    call alloc_frame
    mv a1, a0
    li a0, STACK_VA
    li a2, USER_RW
    call map_page
    ld t0, T_PID(s0)                 # 4.1.11: Sv39, ASID = pid, root PPN
    slli t0, t0, 44
    srli t1, s1, 12
    or t0, t0, t1
    li t1, 8; slli t1, t1, 60
    or t0, t0, t1
    sd t0, T_SATP(s0)
    ld ra, 24(sp)
    ld s0, 16(sp)
    ld s1, 8(sp)
    ld s2, 0(sp)
    addi sp, sp, 32
    ret

# alloc_frame() -> a0: a zeroed 4 KiB frame from the pool (a bump allocator). Clobbers t0-t2.
alloc_frame:
    addi sp, sp, -16; sd ra, 8(sp)
    call crit_enter
    la t0, frame_next
    ld a0, 0(t0)
    la t1, frames_end
    bgeu a0, t1, kpanic
    li t1, 4096
    add t1, a0, t1
    sd t1, 0(t0)
    call crit_exit
    mv t0, a0
1:  sd zero, 0(t0)
    addi t0, t0, 8
    bltu t0, t1, 1b
    ld ra, 8(sp); addi sp, sp, 16
    ret

# map_page(s0 = TCB, a0 = user va, a1 = frame, a2 = PTE flags): sets the level-0 PTE, then
# sfence.vma for that address and ASID (4.2.1). Clobbers t0-t2.
map_page:
    addi sp, sp, -16; sd ra, 8(sp)
    call crit_enter
    ld t0, T_L0(s0)
    srli t1, a0, 12
    andi t1, t1, 511
    slli t1, t1, 3
    add t0, t0, t1
    srli t1, a1, 12
    slli t1, t1, 10
    or t1, t1, a2
    sd t1, 0(t0)
    ld t1, T_PID(s0)
    sfence.vma a0, t1
    call crit_exit
    ld ra, 8(sp); addi sp, sp, 16
    ret

# crit_enter: 4.1.1, clear sstatus.SIE, then read it back. Clobbers t0-t2.
crit_enter:
    csrci sstatus, SIE
    csrr t0, sstatus
    andi t0, t0, SIE
    bnez t0, state_lost
    ret
crit_exit:
    csrsi sstatus, SIE
    ret
# state_lost: the enable bit did not clear. Report it on its own line and count a failure.
state_lost:
    li t0, UART
    la t1, s_lost
1:  lbu t2, 0(t1)
    beqz t2, 2f
    sb t2, 0(t0)
    addi t1, t1, 1
    j 1b
2:  la t0, lost_count
    ld t1, 0(t0); addi t1, t1, 1; sd t1, 0(t0)
fail:                                # count a failed check; clobbers t0, t1
    la t0, failures
    ld t1, 0(t0); addi t1, t1, 1; sd t1, 0(t0)
    ret

arm_timer:                           # Sstc: the next tick comes PERIOD ticks from now
    rdtime t0
    addi t0, t0, PERIOD
    csrw stimecmp, t0
    ret

# user_return(s0 = TCB), interrupts off: 4.1.2 stvec to uservec, sscratch = TCB, the task's
# satp (its ASID keeps its translations apart, so no flush), SPP = U, SPIE, and sret (3.3.2).
user_return:
    la t0, uservec; csrw stvec, t0
    ld t0, T_SATP(s0); csrw satp, t0
    ld t0, T_SEPC(s0); csrw sepc, t0
    li t0, 1 << 8; csrc sstatus, t0
    li t0, 1 << 5; csrs sstatus, t0
    csrw sscratch, s0
    mv a0, s0
    ld x1, 8(a0); ld x2, 16(a0); ld x3, 24(a0); ld x4, 32(a0)
    ld x5, 40(a0); ld x6, 48(a0); ld x7, 56(a0); ld x8, 64(a0)
    ld x9, 72(a0); ld x11, 88(a0); ld x12, 96(a0); ld x13, 104(a0)
    ld x14, 112(a0); ld x15, 120(a0); ld x16, 128(a0); ld x17, 136(a0)
    ld x18, 144(a0); ld x19, 152(a0); ld x20, 160(a0); ld x21, 168(a0)
    ld x22, 176(a0); ld x23, 184(a0); ld x24, 192(a0); ld x25, 200(a0)
    ld x26, 208(a0); ld x27, 216(a0); ld x28, 224(a0); ld x29, 232(a0)
    ld x30, 240(a0); ld x31, 248(a0)
    ld a0, 80(a0)
    sret

# uservec: every trap from U. sscratch holds the running task's TCB.
    .align 2
uservec:
    csrrw a0, sscratch, a0
    sd x1, 8(a0); sd x2, 16(a0); sd x3, 24(a0); sd x4, 32(a0)
    sd x5, 40(a0); sd x6, 48(a0); sd x7, 56(a0); sd x8, 64(a0)
    sd x9, 72(a0); sd x11, 88(a0); sd x12, 96(a0); sd x13, 104(a0)
    sd x14, 112(a0); sd x15, 120(a0); sd x16, 128(a0); sd x17, 136(a0)
    sd x18, 144(a0); sd x19, 152(a0); sd x20, 160(a0); sd x21, 168(a0)
    sd x22, 176(a0); sd x23, 184(a0); sd x24, 192(a0); sd x25, 200(a0)
    sd x26, 208(a0); sd x27, 216(a0); sd x28, 224(a0); sd x29, 232(a0)
    sd x30, 240(a0); sd x31, 248(a0)
    csrr t0, sscratch
    sd t0, 80(a0)
    csrr t0, sepc
    sd t0, T_SEPC(a0)
    mv s0, a0
    la sp, kstack_top
    la t0, kernelvec; csrw stvec, t0
    csrr s1, scause                  # 4.1.8, 4.1.9: read before interrupts may overwrite them
    csrr s2, stval
    bltz s1, u_interrupt
    csrsi sstatus, SIE
    li t0, 8
    beq s1, t0, u_syscall
    li t0, 12
    beq s1, t0, u_fault
    li t0, 13
    beq s1, t0, u_fault
    li t0, 15
    beq s1, t0, u_fault
u_kill:                              # any other exception kills the task
    la a0, s_killed; mv a1, s1; call kline
    call fail
    li a0, 255
    j do_exit
u_interrupt:
    slli t0, s1, 1
    li t1, 5 << 1
    bne t0, t1, kpanic
    li t0, -1                        # quiet the timer until the scheduler re-arms it
    csrw stimecmp, t0
    la t0, need_resched; li t1, 1; sd t1, 0(t0)
    j trap_done

u_syscall:                           # a7 = number, a0-a2 = arguments, result in a0
    ld t0, T_SEPC(s0)
    addi t0, t0, 4
    sd t0, T_SEPC(s0)
    ld t0, T_SYSCALLS(s0); addi t0, t0, 1; sd t0, T_SYSCALLS(s0)
    ld a7, 136(s0)
    ld a0, 80(s0)
    ld a1, 88(s0)
    li t0, SYS_WRITE
    beq a7, t0, sys_write
    li t0, SYS_YIELD
    beq a7, t0, sys_yield
    li t0, SYS_GETPID
    beq a7, t0, sys_getpid
    li t0, SYS_EXIT
    beq a7, t0, do_exit
    li a0, -38                       # ENOSYS
set_result:
    sd a0, 80(s0)
    j trap_done
sys_getpid:
    ld a0, T_PID(s0)
    j set_result
sys_yield:
    la t0, yield_flag; li t1, 1; sd t1, 0(t0)
    li a0, 0
    j set_result
do_exit:                             # a0 = exit code
    call crit_enter
    sd a0, T_EXIT(s0)
    li t0, 1
    sd t0, T_STATE(s0)
    j trap_done
sys_write:                           # write(a0 = buf, a1 = len): up to 128 bytes from the
    li t0, 128                       # task's code or stack page, both mapped by now
    bgtu a1, t0, 3f
    add t2, a0, a1
    bltu t2, a0, 3f
    li t0, CODE_VA
    li t1, CODE_VA + 4096
    bltu a0, t0, 1f
    bleu t2, t1, 2f
1:  li t0, STACK_VA
    li t1, STACK_VA + 4096
    bltu a0, t0, 3f
    bgtu t2, t1, 3f
2:  li t0, 1 << 18                   # 4.1.1.2: SUM lets S-mode read U pages
    csrs sstatus, t0
    la t1, kbuf
    add t2, t1, a1
4:  bgeu t1, t2, 5f
    lbu t3, 0(a0)
    sb t3, 0(t1)
    addi a0, a0, 1
    addi t1, t1, 1
    j 4b
5:  li t0, 1 << 18
    csrc sstatus, t0
    call crit_enter                  # the console lock: a line is never split
    li t0, UART
    la t1, kbuf
    add t2, t1, a1
6:  bgeu t1, t2, 7f
    lbu t3, 0(t1)
    sb t3, 0(t0)
    addi t1, t1, 1
    j 6b
7:  call crit_exit
    mv a0, a1
    j set_result
3:  li a0, -14                       # EFAULT
    j set_result

u_fault:                             # s1 = scause, s2 = stval (4.1.8, 4.1.9): demand paging
    li t0, CODE_VA
    sub t1, s2, t0
    li t2, 4096
    bgeu t1, t2, 1f
    li a0, CODE_VA                   # the user image: map its page read-execute
    la a1, user_text
    li a2, USER_RX
    call map_page
    j 2f
1:  li t0, BUF_VA
    sub t1, s2, t0
    li t2, BUF_SIZE
    bgeu t1, t2, u_kill
    li t0, 12
    beq s1, t0, u_kill               # the buffer is data, never code
    call alloc_frame                 # a zeroed frame, mapped read-write
    mv a1, a0
    srli a0, s2, 12
    slli a0, a0, 12
    li a2, USER_RW
    call map_page
2:  addi t0, s1, -12                 # count it by cause; sret retries the instruction
    slli t0, t0, 3
    add t0, t0, s0
    ld t1, T_FAULTS(t0); addi t1, t1, 1; sd t1, T_FAULTS(t0)

# trap_done(s0 = TCB): round-robin. Switch on a tick, a yield or an exit, else resume.
trap_done:
    call crit_enter                  # the run queue is shared: no interrupts while choosing
    la t0, yield_flag
    ld s1, 0(t0)
    sd zero, 0(t0)
    la t0, need_resched
    ld s2, 0(t0)
    sd zero, 0(t0)
    ld t0, T_STATE(s0)
    or t1, s1, s2
    or t1, t1, t0
    beqz t1, user_return
    la t1, tasks
    mv a0, t1
    bne s0, t1, 1f
    addi a0, t1, T_SIZE
1:  ld t1, T_STATE(a0)
    bnez t1, 3f
    bnez t0, 2f
    bnez s1, 2f
    ld t1, T_PREEMPT(s0)             # a tick took the hart away: a preemption
    addi t1, t1, 1
    sd t1, T_PREEMPT(s0)
2:  la t1, switches
    ld t2, 0(t1); addi t2, t2, 1; sd t2, 0(t1)
    mv s0, a0
    j 4f
3:  bnez t0, finish                  # neither task can run: both have exited
4:  call arm_timer
    j user_return

# kernelvec: a trap while in the kernel. Only the timer is expected: note it and return.
    .align 2
kernelvec:
    addi sp, sp, -16
    sd t0, 0(sp)
    sd t1, 8(sp)
    csrr t0, scause
    li t1, 1; slli t1, t1, 63
    addi t1, t1, 5                   # supervisor timer interrupt (4.1.8)
    bne t0, t1, kpanic
    li t0, -1; csrw stimecmp, t0
    la t0, need_resched; li t1, 1; sd t1, 0(t0)
    la t0, kernel_ticks
    ld t1, 0(t0); addi t1, t1, 1; sd t1, 0(t0)
    ld t0, 0(sp)
    ld t1, 8(sp)
    addi sp, sp, 16
    sret

kpanic:
    csrci sstatus, SIE
    la a0, s_panic; call kputs
    csrr a0, scause; call kputdec
    la a0, s_sepc; call kputs
    csrr a0, sepc; call kputdec
    li a0, 10; call kputc
    li t0, (99 << 16) | 0x3333; li t1, FINISHER; sw t0, 0(t1)
    j park

# finish: both tasks exited. The summary, in a fixed order, and the verdict.
finish:
    li t0, -1; csrw stimecmp, t0
    li t0, 1 << 5; csrc sie, t0
    call crit_exit
    la a0, s_exited; li a1, -1; call kline
    la s0, tasks
    call report
    addi s0, s0, T_SIZE
    call report
    la t0, frame_next
    ld a1, 0(t0)
    la t0, frames
    sub a1, a1, t0
    srli a1, a1, 12
    li t0, FRAMES
    beq a1, t0, 1f
    call fail
1:  la a0, s_frames
    call kline
    call crit_enter
    la s0, tasks
    la a0, s_timing; ld a1, T_PREEMPT(s0); call kfield
    la a0, s_timing2; ld a1, T_SIZE + T_PREEMPT(s0); call kfield
    la a0, s_timing3
    la t0, switches
    ld a1, 0(t0)
    call kfield
    la a0, s_timing4
    la t0, kernel_ticks
    ld a1, 0(t0)
    call kfield
    li a0, 10; call kputc
    call crit_exit
    la t0, failures
    ld a1, 0(t0)
    bnez a1, 2f
    la a0, s_passed; li a1, -1; call kline
    li t0, 0x5555
    j 3f
2:  mv s1, a1
    la a0, s_failed
    call kline
    slli t0, s1, 16
    li t1, 0x3333
    or t0, t0, t1
3:  li t1, FINISHER
    sw t0, 0(t1)
    j park

# report(s0 = TCB): one summary line; checks exit code 0, one fetch fault, four data faults.
report:
    addi sp, sp, -16; sd ra, 8(sp)
    call crit_enter
    la a0, s_rep_pid; ld a1, T_PID(s0); call kfield
    la a0, s_rep_exit; ld a1, T_EXIT(s0); call kfield
    la a0, s_rep_fetch; ld a1, T_FAULTS(s0); call kfield
    la a0, s_rep_load; ld a1, T_FAULTS + 8(s0); call kfield
    la a0, s_rep_store; ld a1, T_FAULTS + 24(s0); call kfield
    la a0, s_rep_calls; ld a1, T_SYSCALLS(s0); call kfield
    li a0, 10; call kputc
    call crit_exit
    ld t0, T_EXIT(s0)
    beqz t0, 1f
    call fail
1:  ld t0, T_FAULTS(s0)
    li t1, 1
    beq t0, t1, 2f
    call fail
2:  ld t0, T_FAULTS + 8(s0)
    ld t1, T_FAULTS + 24(s0)
    add t0, t0, t1
    li t1, 4
    beq t0, t1, 3f
    call fail
3:  ld ra, 8(sp)
    addi sp, sp, 16
    ret

# ---- console helpers: kline takes the console lock, the others run inside it ----------------
# kline(a0 = text, a1 = number or -1): one whole line under the console lock.
kline:
    addi sp, sp, -32; sd ra, 24(sp)
    sd a0, 16(sp)
    sd a1, 8(sp)
    call crit_enter
    ld a0, 16(sp)
    call kputs
    ld a0, 8(sp)
    bltz a0, 1f
    call kputdec
1:  li a0, 10
    call kputc
    call crit_exit
    ld ra, 24(sp); addi sp, sp, 32
    ret
kfield:                              # kfield(a0 = text, a1 = number)
    addi sp, sp, -16; sd ra, 8(sp)
    sd a1, 0(sp)
    call kputs
    ld a0, 0(sp)
    call kputdec
    ld ra, 8(sp); addi sp, sp, 16
    ret
kputs:                               # clobbers t0, t1, a0
    li t0, UART
1:  lbu t1, 0(a0)
    beqz t1, 2f
    sb t1, 0(t0)
    addi a0, a0, 1
    j 1b
2:  ret
kputc:
    li t0, UART
    sb a0, 0(t0)
    ret
kputdec:                             # unsigned decimal; clobbers t0-t3, a0
    addi sp, sp, -32
    addi t1, sp, 32
    li t2, 10
1:  remu t3, a0, t2
    divu a0, a0, t2
    addi t3, t3, 48
    addi t1, t1, -1
    sb t3, 0(t1)
    bnez a0, 1b
    li t0, UART
    addi t2, sp, 32
2:  lbu t3, 0(t1)
    sb t3, 0(t0)
    addi t1, t1, 1
    bltu t1, t2, 2b
    addi sp, sp, 32
    ret

# ---- user image: one page, mapped at CODE_VA on the first instruction fetch ------------------
# Position-independent: strings are reached with la (auipc), system calls with ecall.
    .align 12
user_text:
task_a:                              # a0 = our pid; s1 counts failed self-checks
    mv s0, a0
    li s1, 0
    li a7, SYS_GETPID; ecall
    beq a0, s0, 1f
    addi s1, s1, 1
1:  mv a1, a0
    la a0, u_a_pid
    call u_print
    li t0, BUF_VA                    # read it all: each page's first load faults in a zero frame
    li s3, BUF_VA + BUF_SIZE
    li t2, 0
2:  ld t3, 0(t0)
    or t2, t2, t3
    addi t0, t0, 8
    bltu t0, s3, 2b
    beqz t2, 3f
    addi s1, s1, 1
3:  la a0, u_a_zero
    li a1, BUF_SIZE
    call u_print
    li t0, BUF_VA                    # fill with xorshift32 words
    li t2, 0x2545F491
4:  slliw t3, t2, 13
    xor t2, t2, t3
    srliw t3, t2, 17
    xor t2, t2, t3
    slliw t3, t2, 5
    xor t2, t2, t3
    sw t2, 0(t0)
    addi t0, t0, 4
    bltu t0, s3, 4b
    la a0, u_a_fill; li a1, BUF_SIZE / 4; call u_print
    li a7, SYS_YIELD; ecall
    li t0, BUF_VA                    # CRC-32 (IEEE 802.3, reflected, bit by bit)
    li t2, 0xFFFFFFFF
    li t6, 0xEDB88320
5:  lbu t3, 0(t0)
    xor t2, t2, t3
    li t4, 8
6:  andi t5, t2, 1
    srli t2, t2, 1
    beqz t5, 7f
    xor t2, t2, t6
7:  addi t4, t4, -1
    bnez t4, 6b
    addi t0, t0, 1
    bltu t0, s3, 5b
    li t3, 0xFFFFFFFF
    xor s2, t2, t3
    li t3, EXPECTED_CRC
    beq s2, t3, 8f
    addi s1, s1, 1
8:  la a0, u_a_crc
    mv a1, s2
    call u_print
    la a0, u_a_done; li a1, -1; call u_print
    mv a0, s1
    li a7, SYS_EXIT; ecall

task_b:                              # sieve of Eratosthenes in the demand-paged buffer
    mv s0, a0
    li s1, 0
    li a7, SYS_GETPID; ecall
    beq a0, s0, 1f
    addi s1, s1, 1
1:  mv a1, a0
    la a0, u_b_pid
    call u_print
    li s2, BUF_VA
    li s3, BUF_SIZE
    li t0, 1                         # 0 and 1 are not prime: the first touch is a store
    sb t0, 0(s2)
    sb t0, 1(s2)
    li t0, 2
2:  mul t1, t0, t0
    bgeu t1, s3, 5f
    add t2, s2, t0
    lbu t2, 0(t2)
    bnez t2, 4f
3:  add t2, s2, t1
    li t3, 1
    sb t3, 0(t2)
    add t1, t1, t0
    bltu t1, s3, 3b
4:  addi t0, t0, 1
    j 2b
5:  la a0, u_b_sieve
    li a1, BUF_SIZE
    call u_print
    li a7, SYS_YIELD; ecall
    li s4, 0                         # count, sum and twin pairs
    li s5, 0
    li s6, 0
    li t5, -100                      # the previous prime
    li t0, 0
6:  add t1, s2, t0
    lbu t1, 0(t1)
    bnez t1, 7f
    addi s4, s4, 1
    add s5, s5, t0
    sub t2, t0, t5
    li t3, 2
    bne t2, t3, 8f
    addi s6, s6, 1
8:  mv t5, t0
7:  addi t0, t0, 1
    bltu t0, s3, 6b
    li t0, 1900                      # pi(16384)
    beq s4, t0, 9f
    addi s1, s1, 1
9:  la a0, u_b_count
    mv a1, s4
    call u_print
    la a0, u_b_sum; mv a1, s5; call u_print
    la a0, u_b_twins; mv a1, s6; call u_print
    la a0, u_b_done; li a1, -1; call u_print
    mv a0, s1
    li a7, SYS_EXIT; ecall

# u_print(a0 = text, a1 = number or -1): builds "text[number]\n" on the stack, one write call.
u_print:
    addi sp, sp, -96
    mv t0, sp
1:  lbu t1, 0(a0)
    beqz t1, 2f
    sb t1, 0(t0)
    addi a0, a0, 1
    addi t0, t0, 1
    j 1b
2:  bltz a1, 5f
    addi t2, sp, 96
    mv t3, t2
    li t4, 10
3:  remu t5, a1, t4
    divu a1, a1, t4
    addi t5, t5, 48
    addi t3, t3, -1
    sb t5, 0(t3)
    bnez a1, 3b
4:  lbu t5, 0(t3)
    sb t5, 0(t0)
    addi t0, t0, 1
    addi t3, t3, 1
    bltu t3, t2, 4b
5:  li t1, 10
    sb t1, 0(t0)
    addi t0, t0, 1
    mv a0, sp
    sub a1, t0, sp
    li a7, SYS_WRITE; ecall
    addi sp, sp, 96
    ret

u_a_pid:   .asciz "[A] running as pid "
u_a_zero:  .asciz "[A] demand-paged buffer reads as zeros, bytes: "
u_a_fill:  .asciz "[A] filled with xorshift32, words: "
u_a_crc:   .asciz "[A] crc32 of the buffer: "
u_a_done:  .asciz "[A] done"
u_b_pid:   .asciz "[B] running as pid "
u_b_sieve: .asciz "[B] sieve done in the demand-paged buffer, bytes: "
u_b_count: .asciz "[B] primes below 16384: "
u_b_sum:   .asciz "[B] their sum: "
u_b_twins: .asciz "[B] twin prime pairs: "
u_b_done:  .asciz "[B] done"
user_text_end:
    .align 12

    .section .rodata
s_boot:    .asciz "demo-kernel: M-mode boot on hart 0\n"
s_mret:    .asciz "demo-kernel: traps delegated, Sstc timer on, PMP open, mret to S-mode\n"
s_mtrap:   .asciz "demo-kernel: unexpected M-mode trap, mcause "
s_lost:    .asciz "interrupt state lost\n"
s_sv39:    .asciz "demo-kernel: S-mode kernel, Sv39 on (RAM gigapage, device megapages)"
s_start:   .asciz "demo-kernel: two tasks created, round-robin on timer ticks and yield"
s_killed:  .asciz "demo-kernel: task killed, scause "
s_panic:   .asciz "demo-kernel: panic, scause "
s_sepc:    .asciz " sepc "
s_exited:  .asciz "demo-kernel: both tasks exited"
s_rep_pid: .asciz "demo-kernel: pid "
s_rep_exit: .asciz ": exit code "
s_rep_fetch: .asciz ", page faults: fetch "
s_rep_load: .asciz ", load "
s_rep_store: .asciz ", store "
s_rep_calls: .asciz ", system calls "
s_frames:  .asciz "demo-kernel: frames allocated: "
s_timing:  .asciz "demo-kernel: timing: pid 1 preempted "
s_timing2: .asciz " times, pid 2 preempted "
s_timing3: .asciz " times, context switches "
s_timing4: .asciz ", kernel-mode ticks "
s_passed:  .asciz "demo-kernel: all checks passed"
s_failed:  .asciz "demo-kernel: checks failed: "

    .data
    .align 3
failures:     .dword 0
lost_count:   .dword 0
need_resched: .dword 0
yield_flag:   .dword 0
switches:     .dword 0
kernel_ticks: .dword 0
frame_next:   .dword 0
kernel_root:  .dword 0

    .bss
    .align 12
frames:    .zero FRAMES * 4096
frames_end:
tasks:     .zero 2 * T_SIZE
kbuf:      .zero 128
    .align 4
kstack:    .zero 4096
kstack_top:
