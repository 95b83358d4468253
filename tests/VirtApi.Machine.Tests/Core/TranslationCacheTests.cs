using System.Text;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Tests.Differential;

namespace VirtApi.Machine.Tests.Core;

/// <summary>
/// The hart's translation caches (Hart.TranslationCache.cs): under Sv39 the predecoded loop does loads
/// and stores whose translations the TLB holds, and moves to code pages it translated before, without
/// the general path, and none of it shows: stores still drop decoded code and end reservations, and
/// the TLB counts are those of the general path. Programs/sv39-cache.S (checked against QEMU with the
/// other programs) covers PTE changes after sfence.vma, a W downgrade, SUM and MXR, and the D bit.
/// </summary>
public sealed class TranslationCacheTests
{
    /// <summary>
    /// A program that maps VA 0x40000000 to the page at label <c>window</c> (RW, A and D set) besides
    /// identity gigapages for devices and RAM, then runs <paramref name="body"/> in S-mode and exits 0.
    /// </summary>
    private static byte[] Supervisor(string body, string pages)
    {
        var source = File.ReadAllText(Path.Combine(GuestProgram.Folder, "prelude.S")) + $$"""
            main:
                la t0, root
                li t1, (0x0 >> 12 << 10) | 0xcf
                sd t1, 0(t0)
                li t1, (0x80000000 >> 12 << 10) | 0xcf
                sd t1, 16(t0)
                la t1, level1
                srli t1, t1, 12
                slli t1, t1, 10
                ori t1, t1, 1
                sd t1, 8(t0)
                la t0, level1
                la t1, level0
                srli t1, t1, 12
                slli t1, t1, 10
                ori t1, t1, 1
                sd t1, 0(t0)
                la t0, level0
                la t1, window
                srli t1, t1, 12
                slli t1, t1, 10
                ori t1, t1, 0xc7
                sd t1, 0(t0)
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
            {{body}}
                li a0, 0
                call __exit
            {{pages}}
                .bss
                .align 12
            root: .zero 4096
            level1: .zero 4096
            level0: .zero 4096
            """;
        var result = RiscVAssembler.Assemble(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    [Fact]
    public void StoreThroughATranslatedPage_DropsTheDecodedCodeOnItsFrame()
    {
        // `p` runs, then the word at its alias (VA 0x40000000 + its offset, the same frame) is stored
        // with the next letter, three times, without fence.i: each run sees the new instruction.
        var elf = Supervisor("""
                la t0, p
                la t1, window
                sub t0, t0, t1
                add s1, s1, t0
                lwu s4, 0(s1)
                li s3, 0x00100000
                li s2, 3
            1:  sw s4, 0(s1)
                call p
                call putc
                add s4, s4, s3
                addi s2, s2, -1
                bnez s2, 1b
            """, """
                .text
                .balign 4096
            window:
            p:  addi a0, zero, 69
                ret
            """);
        var fast = GuestProgram.Run(elf);
        Assert.Equal("EFG", Encoding.ASCII.GetString(fast.Console));
        Assert.Equal(0, fast.ExitCode);
        AssertSameCounts(GuestProgram.Run(elf, beforeRun: Traced), fast);
    }

    [Fact]
    public void StoreThroughATranslatedPage_EndsTheReservationThere()
    {
        // Stores through the page first (its translation is then cached), then LR, a plain store to
        // the reserved doubleword, SC: the SC fails (1), as after an untranslated store.
        var elf = Supervisor("""
                li s3, 100
            1:  sd s3, 8(s1)
                sd s3, 0(s1)
                addi s3, s3, -1
                bnez s3, 1b
                lr.d t0, (s1)
                sd t0, 0(s1)
                li t1, 7
                sc.d a0, t1, (s1)
                addi a0, a0, 48
                call putc
                lr.d t0, (s1)
                sd t0, 8(s1)
                sc.d a0, t1, (s1)
                addi a0, a0, 48
                call putc
            """, """
                .data
                .align 12
            window: .zero 4096
            """);
        var fast = GuestProgram.Run(elf);
        Assert.Equal("10", Encoding.ASCII.GetString(fast.Console));
        AssertSameCounts(GuestProgram.Run(elf, beforeRun: Traced), fast);
    }

    [Fact]
    public void CallsAcrossTranslatedCodePages_CountTheTlbHitsOfTheGeneralPath()
    {
        // 3 rounds through 20 pages under Sv39, each page starting with a compressed instruction
        // (one fetch translation on the general path) or a 32-bit one (two: one per parcel).
        var pages = new StringBuilder().AppendLine("    .text").AppendLine("    .option rvc");
        const int Pages = 20;
        for (var i = 0; i < Pages; i++)
        {
            pages.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"    .balign 4096\npage{i}:\n    addi s4, s4, {(i % 2 == 0 ? 1 : 100)}\n    {(i + 1 < Pages ? $"j page{i + 1}" : "ret")}");
        }
        var elf = Supervisor("""
                li s4, 0
                li s2, 3
            1:  call page0
                addi s2, s2, -1
                bnez s2, 1b
            """, pages.ToString() + """
                .data
                .align 12
            window: .zero 4096
            """);
        var fast = GuestProgram.Run(elf);
        Assert.Equal(0, fast.ExitCode);
        Assert.Equal(3UL * ((Pages / 2) + (100 * Pages / 2)), fast.Board.Harts[0][20]);
        AssertSameCounts(GuestProgram.Run(elf, beforeRun: Traced), fast);
    }

    [Theory]
    [InlineData("sv39")]
    [InlineData("sv39-cache")]
    [InlineData("sv39-contexts")]
    public void TlbCounts_AreThoseOfTheGeneralPath(string name)
    {
        // The trace hook sends every instruction through Fetch, Load, Store and Translate.
        var elf = GuestProgram.Assemble(name);
        var fast = GuestProgram.Run(elf);
        Assert.Equal(StopReason.PoweredOff, fast.Reason);
        Assert.True(fast.Board.Harts[0].Counters.TlbHits > 100);
        AssertSameCounts(GuestProgram.Run(elf, beforeRun: Traced), fast);
    }

    private static void Traced(VirtBoard board)
    {
        foreach (var hart in board.Harts)
        {
            hart.Trace = (_, _, _, _) => { };
        }
    }

    private static void AssertSameCounts(GuestProgram.Outcome expected, GuestProgram.Outcome actual)
    {
        Assert.Equal(expected.Console, actual.Console);
        Assert.Equal(expected.Instructions, actual.Instructions);
        var e = expected.Board.Harts[0];
        var a = actual.Board.Harts[0];
        Assert.Equal(e.Counters.Exceptions, a.Counters.Exceptions);
        Assert.Equal(e.Counters.TlbHits, a.Counters.TlbHits);
        Assert.Equal(e.Counters.TlbMisses, a.Counters.TlbMisses);
        Assert.Equal(e.Counters.PageWalks, a.Counters.PageWalks);
        Assert.Equal(e.Pc, a.Pc);
    }
}
