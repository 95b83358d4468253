using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Hart;

/// <summary>The predecoded instructions of one physical RAM page: one slot per 16-bit parcel.</summary>
internal sealed class DecodedPage
{
    public const int Slots = SparseRam.FrameSize / 2;

    /// <summary>The RAM frame number (physical page relative to the RAM base) these slots decode, or <see cref="NoFrame"/>.</summary>
    public ulong FrameNumber = NoFrame;

    public const ulong NoFrame = ulong.MaxValue;

    /// <summary>The frame's bytes: slots are decoded from them lazily, on first execution.</summary>
    public byte[] Frame = [];

    /// <summary>
    /// Decoded instructions by parcel: slot i holds the instruction starting at byte 2i, for i up to
    /// <see cref="LastDecoded"/>; the two slots after it (offset 0xffe and the next page's first
    /// parcel) are always <see cref="Operation.PageEnd"/>.
    /// </summary>
    public readonly DecodedInstruction[] Instructions = new DecodedInstruction[Slots + 1];

    /// <summary>The last slot that holds a decoded instruction: the one at offset 0xffc.</summary>
    public const int LastDecoded = Slots - 2;

    public DecodedPage() => Clear();

    /// <summary>Every record undecoded, the page-end marks in place.</summary>
    public void Clear()
    {
        Array.Clear(Instructions);
        Instructions[LastDecoded + 1].Code = (byte)Operation.PageEnd;
        Instructions[LastDecoded + 2].Code = (byte)Operation.PageEnd;
    }
}

/// <summary>
/// One hart's predecoded-instruction cache, by physical page (issue 4's hot path). The hart decodes an
/// instruction the first time it executes it from a RAM page, and afterwards executes the decoded
/// record. Bounded: <see cref="Pages"/> pages per hart, two-way set-associative by frame number (a
/// frame replaces the less recently fetched of the two pages of its set, so code that alternates
/// between two pages mapping to one set does not re-decode), each 16 KiB allocated the first time its
/// way is used, so a hart never holds more than 2 MiB of decoded code and a guest running from a
/// handful of pages costs a handful of 16 KiB arrays.
/// <para>
/// Invalidation rule. Every store to RAM, whoever makes it (this hart's stores, SC and AMOs, the
/// page-table walker's A/D updates, other harts, devices, the loader, HTIF), ends in
/// <see cref="SparseRam.Write"/>, which tells every hart's cache holding decoded code from that page
/// (<see cref="SparseRam"/> keeps one bit per frame for "some hart decoded from here") to drop the
/// records of the instructions the store overlaps, so the next execution decodes the new bytes.
/// Stores to a page whose instructions were never decoded cost one bit test. Dropping only the
/// overlapped records (rather than the whole page) keeps code and data that share a page fast; the
/// effect is the same as dropping the page. An instruction that straddles two pages (a 32-bit one at
/// offset 0xffe) is never decoded here: the hart fetches it parcel by parcel on its general path.
/// </para>
/// <para>
/// Self-modifying code. The unprivileged spec (chapter 3, "Zifencei") only promises that a hart sees
/// its own stores to instruction memory after a FENCE.I; without one, fetching either the old or the
/// new instruction is allowed. This machine is deterministic and always fetches the new one: the store
/// has dropped the stale record before the next instruction is fetched, with or without FENCE.I (as
/// its fetch path did before predecoding, reading the frame every store writes). FENCE.I itself drops
/// all of the hart's decoded pages (<see cref="DropAll"/>), as the Zifencei chapter's "the instruction
/// cache is flushed" implementation does; it costs one re-decode per instruction executed afterwards.
/// </para>
/// </summary>
internal sealed class DecodedPageCache
{
    /// <summary>Decoded pages per hart: 128 × 16 KiB = 2 MiB at most.</summary>
    public const int Pages = 128;

    /// <summary>Sets of two pages: frames <c>n</c> and <c>n + Sets</c> share a set.</summary>
    public const int Sets = Pages / 2;

    // Way w of set s at [2s + w]; _recent[s] is the way fetched from last, the other is replaced.
    private readonly DecodedPage?[] _pages = new DecodedPage?[Pages];
    private readonly byte[] _recent = new byte[Sets];
    private readonly SparseRam _ram;

    public DecodedPageCache(SparseRam ram)
    {
        _ram = ram;
        ram.AddDecodedPageCache(this);
    }

    /// <summary>
    /// The decoded page of RAM frame <paramref name="frameNumber"/> (whose bytes are <paramref name="frame"/>),
    /// taking its slot over from another frame if need be.
    /// </summary>
    public DecodedPage Get(ulong frameNumber, byte[] frame)
    {
        var set = (int)(frameNumber % Sets);
        var held = IndexOf(frameNumber);
        if (held >= 0)
        {
            _recent[set] = (byte)(held & 1);
            return _pages[held]!;
        }
        var victim = 1 - _recent[set];
        _recent[set] = (byte)victim;
        ref var slot = ref _pages[(2 * set) + victim];
        if (slot is null)
        {
            slot = new DecodedPage();
        }
        else
        {
            // Replaced (or dropped by FENCE.I): its records decode another frame's bytes.
            slot.Clear();
        }
        slot.FrameNumber = frameNumber;
        slot.Frame = frame;
        _ram.MarkDecoded(frameNumber);
        return slot;
    }

    /// <summary>
    /// A store of <paramref name="size"/> bytes at <paramref name="offset"/> in frame <paramref name="frameNumber"/>:
    /// drops the decoded records of every instruction it overlaps. True when this cache holds the page.
    /// </summary>
    public bool StoreSeen(ulong frameNumber, int offset, int size)
    {
        var held = IndexOf(frameNumber);
        if (held < 0)
        {
            return false;
        }
        var page = _pages[held]!;
        // Slot i covers bytes 2i .. 2i+3 at most (a 32-bit instruction), so the stored bytes
        // offset .. offset+size-1 overlap slots (offset-2)/2 .. (offset+size-1)/2.
        var first = Math.Max(0, (offset - 2) >> 1);
        var last = Math.Min(DecodedPage.LastDecoded, (offset + size - 1) >> 1);
        Array.Clear(page.Instructions, first, last - first + 1);
        return true;
    }

    /// <summary>The frame's memory was released (<see cref="Memory.SparseRam.Clear"/>): its decoded page, which holds the old bytes, is forgotten.</summary>
    public void Forget(ulong frameNumber)
    {
        var held = IndexOf(frameNumber);
        if (held >= 0)
        {
            _pages[held]!.FrameNumber = DecodedPage.NoFrame;
        }
    }

    /// <summary>FENCE.I: forgets every decoded page; the arrays are cleared when their slots are next used.</summary>
    public void DropAll()
    {
        foreach (var page in _pages)
        {
            page?.FrameNumber = DecodedPage.NoFrame;
        }
    }

    /// <summary>Where in <see cref="_pages"/> the decoded page of <paramref name="frameNumber"/> is (one way of its set at most), or -1.</summary>
    private int IndexOf(ulong frameNumber)
    {
        var first = 2 * (int)(frameNumber % Sets);
        for (var way = first; way < first + 2; way++)
        {
            if (_pages[way] is { } page && page.FrameNumber == frameNumber)
            {
                return way;
            }
        }
        return -1;
    }
}
