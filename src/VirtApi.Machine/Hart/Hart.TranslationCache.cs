using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>
/// The translation caches of the hot path (issue 6): what <see cref="Translate"/> would answer from
/// the TLB alone, kept where the predecoded loop can use it without a call.
/// <para>
/// For each kind of access (fetch, load, store) a 64-entry table, indexed like the TLB by virtual page
/// modulo 64, remembers a virtual page whose last translation for that kind completed from the TLB
/// entry in the same slot with no walk and no fault (permitted at the current privilege, SUM and MXR;
/// A set, and D for a store) and landed on a page of RAM, with that page's offset from the RAM base.
/// While such an entry stands, <see cref="Translate"/> for the same page and kind would hit the same
/// TLB entry and return the same address, so the hot loop may use it instead, counting the TLB hit
/// <see cref="Translate"/> would have counted. Entries hold RAM offsets rather than frames: a frame
/// not yet written or released by <see cref="SparseRam.Clear"/> is looked up on each access, as the
/// untranslated path does.
/// </para>
/// <para>
/// An entry stands while the TLB entry it came from does and the translation context is the one it
/// was made in. A walk that replaces a TLB slot drops the slot's entries, and so does
/// <c>sfence.vma</c> (privileged spec section 4.2.1) or the monitor's <see cref="FlushTranslations"/>
/// for every slot it invalidates. The context is what else <see cref="Translate"/> reads: satp (mode
/// and ASID), the privilege, and mstatus's SUM, MXR, MPRV and (under MPRV) MPP. Each context in use
/// gets an epoch, which tags the keys made in it, so entries of another context match nothing; the
/// last <see cref="RecentContexts"/> contexts keep their epochs, so a trap into a handler and the
/// return from it find the translations both sides made before. The context is recomputed wherever
/// one of its parts can change: everywhere the fetch cache is dropped on a privilege, satp or mstatus
/// change (<see cref="UpdateInterruptReady"/>: trap entry and return, CSR writes, a monitor's
/// <see cref="Resume"/> and <see cref="CsrsChanged"/>) and at a silent status write. Stores to page
/// tables do not drop entries, as they do not drop TLB entries: section 4.2.1 makes
/// <c>sfence.vma</c> the point after which such a store must be seen.
/// </para>
/// </summary>
public sealed partial class Hart
{
    /// <summary>A remembered translation: the virtual page tagged with its epoch, and the RAM page it maps to.</summary>
    private struct CachedTranslation
    {
        /// <summary>(virtual address &gt;&gt; 12) | epoch. Virtual pages fit in bits 0-51, the epoch in 52-63.</summary>
        public ulong Key;

        /// <summary>The physical page's offset from the RAM base.</summary>
        public ulong Offset;
    }

    private const int EpochShift = 52;
    private const ulong EpochStep = 1UL << EpochShift;

    /// <summary>Translation contexts whose epochs are kept (a kernel, its user task, the handler between).</summary>
    private const int RecentContexts = 4;

    private ulong _nextEpoch = 2 * EpochStep;

    private readonly CachedTranslation[] _fetchTranslations = new CachedTranslation[TlbEntries];
    private readonly CachedTranslation[] _loadTranslations = new CachedTranslation[TlbEntries];
    private readonly CachedTranslation[] _storeTranslations = new CachedTranslation[TlbEntries];

    /// <summary>A translation context (satp, and privilege with the mstatus bits translation reads) and its epoch.</summary>
    private struct TranslationContext
    {
        public ulong Satp;
        public ulong State;
        public ulong Epoch;  // 0: unused
    }

    private readonly TranslationContext[] _contexts = new TranslationContext[RecentContexts];
    private int _nextContext;

    // The current context. Its epoch is never zero, so an empty entry (key 0) and a key looked up with
    // epoch 0 (how the hot loop asks when stores must take the general path) match nothing.
    private TranslationContext _context = new() { Satp = ulong.MaxValue, State = ulong.MaxValue, Epoch = EpochStep };

    /// <summary>
    /// Makes the context translation reads now the current one (section 4.3.1 for SUM and MXR, 3.1.6.3
    /// for MPRV and MPP), with the epoch it had if it is one of the recent ones, else a new epoch.
    /// </summary>
    private void SelectTranslationContext()
    {
        var c = Csrs;
        var satp = c.Satp;
        var mprv = c.Mstatus & CsrFile.Mprv;
        var state = (ulong)Privilege | (c.Mstatus & (CsrFile.Sum | CsrFile.Mxr | CsrFile.Mprv)) | (mprv != 0 ? c.Mstatus & CsrFile.Mpp : 0);
        if (satp == _context.Satp && state == _context.State)
        {
            return;
        }
        foreach (var recent in _contexts)
        {
            if (recent.Epoch != 0 && recent.Satp == satp && recent.State == state)
            {
                _context = recent;
                return;
            }
        }
        _context = new TranslationContext { Satp = satp, State = state, Epoch = NewEpoch() };
        _contexts[_nextContext] = _context;
        _nextContext = (_nextContext + 1) % RecentContexts;
    }

    /// <summary>An epoch no standing entry holds: once every 4,095 the tables are cleared and every context forgotten.</summary>
    private ulong NewEpoch()
    {
        var epoch = _nextEpoch;
        _nextEpoch += EpochStep;
        if (epoch == 0)
        {
            Array.Clear(_fetchTranslations);
            Array.Clear(_loadTranslations);
            Array.Clear(_storeTranslations);
            Array.Clear(_contexts);
            epoch = EpochStep;
            _nextEpoch = 2 * EpochStep;
        }
        return epoch;
    }

    /// <summary>Drops every remembered translation of every context (the whole TLB was flushed): O(1), by new epochs.</summary>
    private void ForgetTranslations()
    {
        Array.Clear(_contexts);
        _context = new TranslationContext { Satp = ulong.MaxValue, State = ulong.MaxValue };
        SelectTranslationContext();
    }

    /// <summary>The TLB entry in <paramref name="slot"/> was replaced or invalidated: what any context remembered from it goes.</summary>
    private void ForgetTranslations(int slot)
    {
        _fetchTranslations[slot] = default;
        _loadTranslations[slot] = default;
        _storeTranslations[slot] = default;
    }

    /// <summary>
    /// After <see cref="Translate"/> completed from TLB slot <paramref name="slot"/> for
    /// <paramref name="access"/> at <paramref name="address"/>: remembers the page if it is RAM. A store
    /// also remembers it for loads, which the same entry then permits too (W requires R, section 4.3.1,
    /// so a writable leaf is readable, and U, SUM, A apply to loads as to stores).
    /// </summary>
    private void RememberTranslation(int slot, ulong address, AccessType access, ulong physical)
    {
        var page = (physical & ~0xfffUL) - _ram.Base;
        if (page >= _ram.Size || (_ram.Base & 0xfff) != 0)
        {
            return;
        }
        var translation = new CachedTranslation { Key = (address >> 12) | _context.Epoch, Offset = page };
        switch (access)
        {
            case AccessType.Fetch:
                _fetchTranslations[slot] = translation;
                break;
            case AccessType.Load:
                _loadTranslations[slot] = translation;
                break;
            default:
                _storeTranslations[slot] = translation;
                _loadTranslations[slot] = translation;
                break;
        }
    }

    /// <summary>Whether the hot loop runs with data translation on (<see cref="Translated"/>) or off (<see cref="Untranslated"/>).</summary>
    private interface IDataTranslation
    {
        static abstract bool On { get; }
    }

    /// <summary>Data accesses go through the translation caches (a separate compiled copy of the hot loop).</summary>
    private readonly struct Translated : IDataTranslation
    {
        public static bool On => true;
    }

    /// <summary>Data addresses are physical.</summary>
    private readonly struct Untranslated : IDataTranslation
    {
        public static bool On => false;
    }

    /// <summary>
    /// The hot loop's address check: with translation, whether <paramref name="table"/> remembers the
    /// page of <paramref name="address"/> in epoch <paramref name="epoch"/>; without, whether the
    /// address is below <paramref name="limit"/> past the RAM base. <paramref name="offset"/> is the
    /// address's offset from the RAM base when true.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool RamOffset<TTranslation>(ulong address, ref CachedTranslation table, ulong epoch, ulong ramBase, ulong limit, out ulong offset)
        where TTranslation : struct, IDataTranslation
    {
        if (TTranslation.On)
        {
            ref var cached = ref Unsafe.Add(ref table, (nint)((address >> 12) % TlbEntries));
            offset = cached.Offset + (address & 0xfff);
            return cached.Key == ((address >> 12) | epoch);
        }
        offset = address - ramBase;
        return offset < limit;
    }

    /// <summary>
    /// The pc moved to another page: when the page's translation is remembered (or translation is off)
    /// and its frame holds code, makes it the fetch page as <see cref="FetchParcel"/> would, so the hot
    /// path goes on there without the general path. Counts the TLB hits the general path's fetch would
    /// have: one per 16-bit parcel translated, two for a 32-bit instruction.
    /// </summary>
    private void SwitchFetchPage(ulong pc)
    {
        var within = (int)(pc & 0xfff);
        if (within > 0xffc || (pc & 1) != 0 || (_ram.Base & 0xfff) != 0)
        {
            return;
        }
        // Fetches translate below M-mode; MPRV never applies to them (section 3.1.6.3).
        var translated = _paging && Privilege != PrivilegeLevel.Machine;
        ulong page;
        if (translated)
        {
            ref var cached = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_fetchTranslations), (nint)((pc >> 12) % TlbEntries));
            if (cached.Key != ((pc >> 12) | _context.Epoch))
            {
                return;
            }
            page = cached.Offset;
        }
        else
        {
            page = (pc & ~0xfffUL) - _ram.Base;
            if (page >= _ram.Size)
            {
                return;
            }
        }
        if (_ram.FrameAt(_ram.Base + page) is not { } frame)
        {
            return;
        }
        if (translated)
        {
            Counters.TlbHits += (frame[within] & 3) == 3 ? 2UL : 1UL;
        }
        _fetchFrame = frame;
        _fetchDecoded = _decodedPages.Get(page >> SparseRam.FrameShift, frame);
        _fetchPage = pc >> 12;
    }
}
