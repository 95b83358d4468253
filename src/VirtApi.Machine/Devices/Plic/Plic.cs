using System.Collections.Immutable;
using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Devices;

/// <summary>
/// The platform-level interrupt controller at 0x0C00_0000 (RISC-V PLIC specification 1.0, QEMU virt
/// layout): priorities at 4 × source, pending bits at 0x1000, enables at 0x2000 + 0x80 × context,
/// threshold at 0x20_0000 + 0x1000 × context and claim/complete 4 bytes after it. Context 2h is hart h's
/// M-mode (MEIP), 2h + 1 its S-mode (SEIP). Sources are level-triggered through their gateways: a
/// source is pending while its line is high and it is not being served.
/// </summary>
public sealed class Plic : IMmioDevice
{
    public const ulong Size = 0x60_0000;
    public const int SourceCount = 96;
    private readonly IReadOnlyList<IInterruptPins> _harts;
    private readonly uint[] _priority = new uint[SourceCount];
    private readonly bool[] _level = new bool[SourceCount];
    private readonly bool[] _pending = new bool[SourceCount];
    private readonly bool[] _claimed = new bool[SourceCount];
    private readonly uint[][] _enable;
    private readonly uint[] _threshold;
    private readonly Line[] _lines = new Line[SourceCount];

    public Plic(IReadOnlyList<IInterruptPins> harts)
    {
        _harts = harts;
        var contexts = harts.Count * 2;
        _enable = new uint[contexts][];
        for (var c = 0; c < contexts; c++)
        {
            _enable[c] = new uint[SourceCount / 32];
        }
        _threshold = new uint[contexts];
        for (var s = 1; s < SourceCount; s++)
        {
            _lines[s] = new Line(this, s);
        }
    }

    /// <summary>The interrupt input of source <paramref name="id"/> (1 to 95).</summary>
    public IInterruptLine Source(int id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(id, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, SourceCount);
        return _lines[id];
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4 || offset % 4 != 0)
        {
            return false;
        }
        if (offset < 0x1000)
        {
            var source = (int)(offset / 4);
            value = source < SourceCount ? _priority[source] : 0;
            return true;
        }
        if (offset < 0x2000)
        {
            var word = (int)((offset - 0x1000) / 4);
            for (var bit = 0; bit < 32 && word * 32 < SourceCount; bit++)
            {
                var source = (word * 32) + bit;
                if (source < SourceCount && _pending[source])
                {
                    value |= 1UL << bit;
                }
            }
            return true;
        }
        if (offset < 0x20_0000)
        {
            var context = (int)((offset - 0x2000) / 0x80);
            var word = (int)((offset - 0x2000) % 0x80 / 4);
            value = context < _enable.Length && word < _enable[context].Length ? _enable[context][word] : 0;
            return true;
        }
        var ctx = (int)((offset - 0x20_0000) / 0x1000);
        if (ctx >= _threshold.Length)
        {
            return true;
        }
        switch ((offset - 0x20_0000) % 0x1000)
        {
            case 0:
                value = _threshold[ctx];
                return true;
            case 4:
                value = (ulong)Claim(ctx);
                return true;
            default:
                return true;
        }
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 4 || offset % 4 != 0)
        {
            return false;
        }
        if (offset < 0x1000)
        {
            var source = (int)(offset / 4);
            if (source is > 0 and < SourceCount)
            {
                _priority[source] = (uint)value & 7;
            }
        }
        else if (offset < 0x2000)
        {
            return true; // pending bits are read-only
        }
        else if (offset < 0x20_0000)
        {
            var context = (int)((offset - 0x2000) / 0x80);
            var word = (int)((offset - 0x2000) % 0x80 / 4);
            if (context < _enable.Length && word < _enable[context].Length)
            {
                _enable[context][word] = (uint)value & (word == 0 ? ~1u : ~0u); // source 0 does not exist
            }
        }
        else
        {
            var ctx = (int)((offset - 0x20_0000) / 0x1000);
            if (ctx < _threshold.Length)
            {
                switch ((offset - 0x20_0000) % 0x1000)
                {
                    case 0:
                        _threshold[ctx] = (uint)value & 7;
                        break;
                    case 4:
                        Complete((int)value);
                        break;
                }
            }
        }
        Update();
        return true;
    }

    /// <summary>The registers and gateway state, for a snapshot.</summary>
    public PlicState Save() => new()
    {
        Priority = [.. _priority],
        Level = [.. _level],
        Pending = [.. _pending],
        Claimed = [.. _claimed],
        Enable = [.. _enable.Select(words => ImmutableArray.Create(words))],
        Threshold = [.. _threshold],
    };

    /// <summary>
    /// A PLIC holding <paramref name="state"/>, which drives its contexts' lines into the harts of
    /// <paramref name="args"/> at once (MEIP/SEIP), as the saved registers say they were.
    /// </summary>
    public static Plic Restore(PlicArgs args, PlicState state)
    {
        var plic = new Plic(args.Harts);
        StateArrays.CopyInto(state.Priority, plic._priority, nameof(state.Priority));
        StateArrays.CopyInto(state.Level, plic._level, nameof(state.Level));
        StateArrays.CopyInto(state.Pending, plic._pending, nameof(state.Pending));
        StateArrays.CopyInto(state.Claimed, plic._claimed, nameof(state.Claimed));
        StateArrays.CopyInto(state.Threshold, plic._threshold, nameof(state.Threshold));
        StateArrays.Require(state.Enable, plic._enable.Length, nameof(state.Enable));
        for (var context = 0; context < plic._enable.Length; context++)
        {
            StateArrays.CopyInto(state.Enable[context], plic._enable[context], nameof(state.Enable));
        }
        plic.Update();
        return plic;
    }

    private int Claim(int context)
    {
        var best = 0;
        uint bestPriority = 0;
        for (var s = 1; s < SourceCount; s++)
        {
            if (_pending[s] && Enabled(context, s) && _priority[s] > bestPriority)
            {
                best = s;
                bestPriority = _priority[s];
            }
        }
        if (best != 0)
        {
            _pending[best] = false;
            _claimed[best] = true;
            Update();
        }
        return best;
    }

    private void Complete(int source)
    {
        if (source is > 0 and < SourceCount && _claimed[source])
        {
            _claimed[source] = false;
            if (_level[source])
            {
                _pending[source] = true;
            }
        }
    }

    private bool Enabled(int context, int source) => ((_enable[context][source / 32] >> (source % 32)) & 1) != 0;

    private void SetLevel(int source, bool level)
    {
        _level[source] = level;
        if (level && !_claimed[source])
        {
            _pending[source] = true;
        }
        else if (!level)
        {
            _pending[source] = false;
        }
        Update();
    }

    /// <summary>Drives each context's interrupt output: any pending, enabled source above the threshold.</summary>
    private void Update()
    {
        for (var context = 0; context < _threshold.Length; context++)
        {
            var raise = false;
            for (var s = 1; s < SourceCount && !raise; s++)
            {
                raise = _pending[s] && Enabled(context, s) && _priority[s] > _threshold[context];
            }
            _harts[context / 2].SetPending(context % 2 == 0 ? 11 : 9, raise);
        }
    }

    private sealed class Line(Plic plic, int source) : IInterruptLine
    {
        public void SetLevel(bool level) => plic.SetLevel(source, level);
    }
}
