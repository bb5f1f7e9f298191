"""Fashion-MNIST features, declared as data (must match schemas/fashion_mnist/schema.pbtxt)."""

IMAGE = "pixels"  # raw int feature: a 28x28 image, row by row, 0 (background) .. 255
LABEL = "label"  # raw int feature: the class id 0..9
HEIGHT = WIDTH = 28
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
