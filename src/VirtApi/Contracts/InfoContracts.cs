namespace VirtApi.Contracts;

/// <summary>What this server is and which techniques it offers.</summary>
/// <param name="Name">Always VirtApi.</param>
/// <param name="Version">The server's version.</param>
/// <param name="ApiVersion">The API contract version (v1).</param>
/// <param name="Machine">The emulated machine guests run on.</param>
/// <param name="CpuModes">CPU virtualization techniques (cpu.mode).</param>
/// <param name="CpuProfiles">CPU profiles (cpu.profile).</param>
/// <param name="MemoryModes">Memory virtualization techniques (memory.mode).</param>
/// <param name="DeviceModels">Device virtualization models (devices[].model).</param>
/// <param name="DeviceKinds">Device kinds (devices[].kind) and whether this build has a device model for each.</param>
public sealed record InfoResponse(
    string Name,
    string Version,
    string ApiVersion,
    MachineInfo Machine,
    IReadOnlyList<Capability> CpuModes,
    IReadOnlyList<Capability> CpuProfiles,
    IReadOnlyList<Capability> MemoryModes,
    IReadOnlyList<Capability> DeviceModels,
    IReadOnlyList<Capability> DeviceKinds);

/// <summary>The emulated board.</summary>
/// <param name="Isa">The instruction set of every hart.</param>
/// <param name="Board">The board layout guests are built for.</param>
public sealed record MachineInfo(string Isa, string Board);

/// <summary>One technique, profile or model, and whether this server offers it yet.</summary>
/// <param name="Name">The value clients send (kebab-case).</param>
/// <param name="Available">True when VMs can use it on this server now.</param>
/// <param name="Description">What it is.</param>
public sealed record Capability(string Name, bool Available, string Description);

/// <summary>The answer of <c>/healthz</c>.</summary>
/// <param name="Status">Always ok while the process serves requests.</param>
public sealed record HealthResponse(string Status);
