using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence.Configurations;

internal sealed class VmConfiguration : IEntityTypeConfiguration<VmEntity>
{
    public void Configure(EntityTypeBuilder<VmEntity> builder)
    {
        builder.ToTable("Vms");
        builder.HasKey(v => v.Id);
        builder.Property(v => v.Name).HasMaxLength(63).IsRequired();
        builder.HasIndex(v => v.Name).IsUnique();
        builder.HasIndex(v => v.State);
        // An image or host in use cannot be deleted from under a VM: the API answers 409 first,
        // and the foreign keys refuse it even if a request raced past that check.
        builder.HasOne<ImageEntity>().WithMany().HasForeignKey(v => v.ImageId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(v => v.Host).WithMany().HasForeignKey(v => v.HostId).OnDelete(DeleteBehavior.Restrict);
        builder.Property(v => v.CpuMode).HasConversion(EnumNames.Converter<CpuMode>()).HasMaxLength(32);
        builder.Property(v => v.CpuProfile).HasConversion(EnumNames.Converter<CpuProfile>()).HasMaxLength(32);
        builder.Property(v => v.MemoryMode).HasConversion(EnumNames.Converter<MemoryMode>()).HasMaxLength(32);
        builder.Property(v => v.State).HasConversion(EnumNames.Converter<VmState>()).HasMaxLength(32);
        builder.Property(v => v.StateReason).HasMaxLength(512);
    }
}
