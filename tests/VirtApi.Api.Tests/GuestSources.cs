namespace VirtApi.Api.Tests;

/// <summary>Small guest programs the VM tests boot (GNU as syntax, for the QEMU virt board).</summary>
internal static class GuestSources
{
    /// <summary>Powers off through the test finisher with exit code <paramref name="code"/> after printing "bye".</summary>
    public static string ExitWith(int code) => $$"""
        .globl _start
        _start:
            li t0, 0x10000000
            li t1, 98             # b
            sb t1, 0(t0)
            li t1, 121            # y
            sb t1, 0(t0)
            li t1, 101            # e
            sb t1, 0(t0)
            li t0, 0x100000
            li t1, {{(code == 0 ? "0x5555" : $"({code} << 16) | 0x3333")}}
            sw t1, 0(t0)
        1:  j 1b
        """;

    /// <summary>Echoes every UART byte back; powers off with 0 after echoing a '.'.</summary>
    public const string Echo = """
        .globl _start
        _start:
            li t0, 0x10000000
        1:  lbu t1, 5(t0)          # LSR: bit 0 = data ready
            andi t1, t1, 1
            beqz t1, 1b
            lbu t2, 0(t0)          # RBR
            sb t2, 0(t0)           # THR
            li t3, 46              # '.'
            bne t2, t3, 1b
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
        2:  j 2b
        """;

    /// <summary>Loops for ever: only the instruction budget or a stop ends it.</summary>
    public const string Spin = """
        .globl _start
        _start:
            addi t0, t0, 1
            j _start
        """;

    /// <summary>Jumps to an address where nothing is mapped, with no trap handler: the fetch faults for ever.</summary>
    public const string JumpToNowhere = """
        .globl _start
        _start:
            li t0, 0x5000
            jr t0
        """;
}
