import ImageCore
print(Filters.all.map(\.name))
